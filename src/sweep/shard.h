#pragma once
// Splitting one sweep over several processes (shards), and merging their files back into the file
// an unsharded run would have written. docs/cluster.md describes both from the user's side.
//
// A shard owns a contiguous run of the masks in trie order (lexicographic over layers 0..L-1 of the
// gate rows), so masks that share leading layers stay in one shard; the cut points are moved, within
// a small window around the even split, to where neighbouring masks first differ at the shallowest
// layer. Every shard's file holds the full /masks; its masks_done marks the masks it owns.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/results.h"

namespace hs::sweep {

struct Shard {
  int index = 0;  // counts from 0
  int count = 1;  // 1: the whole sweep, no shard
  std::string source;  // how it was chosen, for messages: "--shard 1/3", "SLURM_ARRAY_TASK_ID=2, ..."
  bool sharded() const { return count > 1; }
};

// "INDEX/COUNT" as given to --shard, e.g. "0/4"; InputError naming the flag otherwise.
Shard parse_shard(const std::string& text);

// The shard a SLURM array task runs: (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) /
// SLURM_ARRAY_TASK_STEP of SLURM_ARRAY_TASK_COUNT (MIN defaults to 0, STEP to 1); nullopt outside
// an array job. InputError when the variables do not describe a contiguous array.
using GetEnv = std::function<const char*(const char*)>;
std::optional<Shard> shard_from_env(const GetEnv& getenv);

// Where a shard's file goes by default: "results/x.h5" -> "results/x.shard-1-of-3.h5".
std::string shard_path(const std::string& path, const Shard& shard);

// Mask indices in trie order (ties, i.e. equal masks, by index). masks: (N, L, H).
std::vector<int64_t> trie_sorted(const std::vector<uint8_t>& masks, int n_layers, int n_heads);

// The shard (0..count-1) that owns each mask, (N).
std::vector<int> shard_owners(const std::vector<uint8_t>& masks, int n_layers, int n_heads, int count);

// The masks shard `index` of `count` owns, in increasing index order.
std::vector<int64_t> shard_masks(const std::vector<uint8_t>& masks, int n_layers, int n_heads, const Shard& shard);

struct MergeResult {
  std::string path;
  io::ResultsHeader header;
  std::vector<std::string> mask_names;
  std::vector<std::map<std::string, double>> scores;  // (N)
  int64_t n_examples = 0;
  std::optional<io::BootstrapColumns> bootstrap;  // the primary metric's, when the sweep asks for them
  std::vector<double> ablation;                   // as RunSummary's
  std::map<std::string, double> agreement;
  std::vector<std::pair<io::PruningRecord, io::PruningScores>> pruning;
};

// Writes `out` from `inputs` (shard files, or any results files of one sweep): checks that they
// have the same schema version, config identity, weights, masks and examples, and that every mask
// was scored by exactly one of them; then writes `out` as the unsharded run would have (complete =
// 1, merged_from naming the inputs). `out` appears only once complete. InputError naming the files
// for every mismatch, overlap or gap.
MergeResult merge_results(const std::string& out, const std::vector<std::string>& inputs, bool overwrite);

}  // namespace hs::sweep
