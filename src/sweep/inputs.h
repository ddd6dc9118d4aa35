#pragma once
// Turns a dataset into token sequences and length-sorted batches under a token budget, so no batch
// pays for padding up to max_seq_len.
#include <cstdint>
#include <vector>

#include "data/glue_tasks.h"
#include "model/bert.h"
#include "sweep/head.h"
#include "text/tokenizer.h"

namespace hs::sweep {

struct Sequence {
  std::vector<int32_t> ids;    // (T)
  std::vector<int32_t> types;  // (T)
  int64_t example;             // index into the dataset's examples
  int slot;                    // 0: the example's input (or its first sentence), 1: its second sentence
};

// Classification and regression heads read one [CLS] a [SEP] b [SEP] sequence per example; the
// similarity head encodes each sentence alone (as sentence-transformers does), two per example.
struct ScoringInputs {
  std::vector<Sequence> sequences;
  int64_t n_examples = 0;
  int slots = 1;
  int64_t n_tokens = 0;  // real tokens over all sequences
};

ScoringInputs build_inputs(const data::Dataset& dataset, const text::Tokenizer& tok, const HeadSpec& head,
                           int max_seq_len);

// SHA-256 (hex) of what the model is given and how its outputs are read: every sequence's token and
// type ids in order, and the head (kind, pooling, class order). Part of a results file's identity
// (inputs_sha256), so that a resume or a merge notices changed text, vocab.txt, tokenizer settings,
// 1_Pooling or id2label behind the same paths, which the config and the row numbers do not show.
std::string inputs_sha256(const ScoringInputs& inputs, const HeadSpec& head);

struct Batch {
  model::EncoderInput input;          // (B, T) each
  std::vector<int64_t> sequence_index;  // (B) rows of ScoringInputs::sequences
  int64_t real_tokens = 0;
  int64_t padded_tokens = 0;          // B * T
};

// The listed sequences (rows of inputs.sequences) as one batch, padded to the longest.
Batch pack_batch(const ScoringInputs& inputs, const std::vector<int64_t>& sequence_index, int32_t pad_id);

// Sorts sequences by length (longest first) and cuts the order into batches with B * T_max within
// token_budget (a single longer sequence still gets a batch of its own): as few batches as filling
// each one to the budget would give, and among those cuts the one with the least padding.
std::vector<Batch> make_batches(const ScoringInputs& inputs, int64_t token_budget, int32_t pad_id);

// runtime.token_budget's 0: the device's own budget. The CPU's single-threaded GEMMs are already
// efficient at a few hundred rows, and its workers want several batches each; a GPU wants each
// launch large, or it waits on the host that queues the launches (32768 is what
// docs/performance.md#gpu measured with). Any other value is the configured budget.
constexpr int64_t kCpuTokenBudget = 8192;
constexpr int64_t kCudaTokenBudget = 32768;
int64_t device_token_budget(int64_t configured, bool cuda);

// The token budget to batch with when `threads` compute threads will share the batches
// (parallel_items): lowered, never raised, until the data makes about kBatchesPerWorker batches per
// worker, so no worker idles while another finishes a large last batch, but not below
// kMinWorkerBatchTokens, where per-op overhead starts to outweigh the GEMMs. Batches this size cost
// little: the GEMMs stay hundreds of rows tall, and padding only shrinks.
constexpr int kBatchesPerWorker = 4;
constexpr int64_t kMinWorkerBatchTokens = 256;
int64_t worker_token_budget(int64_t token_budget, int64_t real_tokens, int threads);

}  // namespace hs::sweep
