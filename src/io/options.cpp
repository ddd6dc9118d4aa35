#include "io/options.h"

#include <limits>
#include <regex>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>

#include "io/env_expand.h"
#include "io/option_value.h"

namespace hs::io {

namespace {

// Builds one table row; the struct field it is bound to fixes its type.
class Opt {
 public:
  template <class S, class T>
  Opt(const char* section, const char* name, S Plan::*sec, T S::*field) {
    s_.section = section;
    s_.name = name;
    if constexpr (std::is_same_v<T, std::string>) {
      s_.type = OptionType::String;
    } else if constexpr (std::is_same_v<T, bool>) {
      s_.type = OptionType::Bool;
    } else if constexpr (std::is_integral_v<T>) {
      s_.type = OptionType::Int;
      if constexpr (sizeof(T) < sizeof(int64_t)) {  // int64 fields hold every parsed value
        s_.field_min = static_cast<double>(std::numeric_limits<T>::min());
        s_.field_max = static_cast<double>(std::numeric_limits<T>::max());
      }
    } else if constexpr (std::is_same_v<T, double>) {
      s_.type = OptionType::Float;
    } else if constexpr (std::is_same_v<T, std::vector<double>>) {
      s_.type = OptionType::FloatList;
    } else {
      static_assert(std::is_same_v<T, std::vector<std::string>>, "unsupported option field type");
      s_.type = OptionType::StringList;
    }
    s_.store = [sec, field](Plan& p, const Value& v) {
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        (p.*sec).*field = static_cast<T>(std::get<int64_t>(v));
      } else {
        (p.*sec).*field = std::get<T>(v);
      }
    };
    s_.load = [sec, field](const Plan& p) -> Value {
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        return static_cast<int64_t>((p.*sec).*field);
      } else {
        return (p.*sec).*field;
      }
    };
  }

  Opt& required() { return s_.required = true, *this; }
  Opt& default_value(const char* v) { return set_default(std::string(v)); }
  Opt& default_value(int v) { return set_default(static_cast<int64_t>(v)); }
  Opt& default_value(int64_t v) { return set_default(v); }
  Opt& default_value(double v) { return set_default(v); }
  Opt& default_value(bool v) { return set_default(v); }
  Opt& default_value(std::vector<double> v) { return set_default(std::move(v)); }
  Opt& default_value(std::vector<std::string> v) { return set_default(std::move(v)); }
  Opt& one_of(std::vector<std::string> choices) { return s_.choices = std::move(choices), *this; }
  Opt& at_least(double lo) { return s_.min = lo, *this; }
  Opt& range(double lo, double hi) { return s_.min = lo, s_.max = hi, *this; }
  Opt& allowed(std::string doc, std::function<std::string(const Value&)> check) {
    s_.allowed_doc = std::move(doc);
    s_.check = std::move(check);
    return *this;
  }
  Opt& used_when(std::string key, std::vector<std::string> values) {
    s_.used_when = OptionCondition{std::move(key), std::move(values)};
    return *this;
  }
  Opt& help(std::string text) { return s_.help = std::move(text), *this; }

  operator OptionSpec() const {  // NOLINT: rows convert implicitly in the table's initializer
    if (s_.required == s_.default_value.has_value())
      throw std::logic_error(s_.key() + ": give either required() or a default");
    if (s_.default_value) {
      const std::string problem = check_option_value(s_, *s_.default_value);
      if (!problem.empty()) throw std::logic_error(s_.key() + ": bad default: " + problem);
    }
    return s_;
  }

 private:
  Opt& set_default(Value v) {
    static const OptionType types[] = {OptionType::String, OptionType::Int,
                                       OptionType::Float,  OptionType::Bool,
                                       OptionType::FloatList, OptionType::StringList};
    if (types[v.index()] != s_.type) throw std::logic_error(s_.key() + ": default of the wrong type");
    s_.default_value = std::move(v);
    return *this;
  }

  OptionSpec s_;
};

std::string check_device(const Value& v) {
  const std::string& s = std::get<std::string>(v);
  if (s == "cpu" || s == "cuda" || s == "auto") return "";
  const std::string n = s.rfind("cuda:", 0) == 0 ? s.substr(5) : "";
  if (!n.empty() && n.size() <= 4 && n.find_first_not_of("0123456789") == std::string::npos) return "";
  return "expected one of cpu, cuda, cuda:N (N = 0, 1, ...), auto; got " + quoted(s);
}

std::string check_token_budget(const Value& v) {
  const int64_t n = std::get<int64_t>(v);
  if (n == 0 || n >= 64) return "";
  return fmt::format("expected 0 (the device's own) or an integer of at least 64, got {}", n);
}

// Sparsities are fractions of heads removed: 0 would repeat the baseline, 1 remove every head.
// Repeats would only draw more masks under a misleading name (use samples for that).
std::string check_sparsities(const Value& v) {
  const auto& list = std::get<std::vector<double>>(v);
  if (list.empty()) return "expected at least one sparsity, got an empty list";
  for (size_t i = 0; i < list.size(); ++i) {
    if (!(list[i] > 0 && list[i] < 1))
      return fmt::format("item {}: expected a number above 0 and below 1, got {}", i + 1, list[i]);
    for (size_t j = 0; j < i; ++j)
      if (list[j] == list[i]) return fmt::format("item {}: {} repeats item {}", i + 1, list[i], j + 1);
  }
  return "";
}

// A pruning curve's steps: each fraction of all heads removed, increasing, so that each step
// removes more heads than the one before (prune_curve relies on it).
std::string check_fractions(const Value& v) {
  const auto& list = std::get<std::vector<double>>(v);
  if (list.empty()) return "expected at least one fraction, got an empty list";
  for (size_t i = 0; i < list.size(); ++i) {
    if (!(list[i] >= 0 && list[i] <= 1))
      return fmt::format("item {}: expected a number from 0 to 1, got {}", i + 1, list[i]);
    if (i > 0 && !(list[i] > list[i - 1]))
      return fmt::format("item {}: {} does not increase on item {} ({})", i + 1, list[i], i, list[i - 1]);
  }
  return "";
}

std::string cell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

// Whether `s` reads back as the same string, unquoted, in any YAML 1.1 or 1.2 reader: words and
// paths, but nothing that could be a number, a boolean, null or YAML syntax.
bool plain_safe(const std::string& s) {
  static const std::regex word("[A-Za-z_/][A-Za-z0-9_./:+-]*");
  static const std::regex special("y|n|yes|no|true|false|on|off|null", std::regex::icase);
  return std::regex_match(s, word) && !std::regex_match(s, special) && s.back() != ':';
}

std::string number_text(double d) { return fmt::format("{}", d); }

std::string default_doc(const OptionSpec& s) {
  if (!s.default_value) return "*required*";
  const Value& v = *s.default_value;
  if (s.type == OptionType::String) {
    const auto& str = std::get<std::string>(v);
    return str.empty() ? "`\"\"`" : "`" + str + "`";
  }
  return "`" + value_yaml(s, v) + "`";
}

std::string allowed_doc(const OptionSpec& s) {
  if (!s.allowed_doc.empty()) return s.allowed_doc;
  if (!s.choices.empty()) {
    std::string out;
    for (size_t i = 0; i < s.choices.size(); ++i) out += (i ? ", `" : "`") + s.choices[i] + "`";
    return s.type == OptionType::StringList ? out + "; or a list of them" : out;
  }
  const std::string prefix = s.type == OptionType::FloatList ? "each " : "";
  if (s.min && s.max) return prefix + number_text(*s.min) + " to " + number_text(*s.max);
  if (s.min) return prefix + "at least " + number_text(*s.min);
  if (s.max) return prefix + "at most " + number_text(*s.max);
  return "";
}

}  // namespace

const std::vector<SectionSpec>& plan_sections() {
  static const std::vector<SectionSpec> sections = {
      {"model", "The checkpoint whose heads are masked."},
      {"task", "The labelled data the model is scored on."},
      {"sweep", "Which head masks are scored. Strategy parameters go here too, each marked with the "
                "strategies that read it."},
      {"runtime", "How the work is run. Only `seed` is meant to change results; `threads`, "
                  "`streams` and `token_budget` can change float rounding, never predictions beyond it."},
      {"importance", "Gradient importance of every head (one backward pass per batch), computed before "
                     "the sweep and stored in /importance; with single-head masks in the sweep, also "
                     "each method's rank agreement with the heads' ablation drops."},
      {"attention", "Attention statistics per head (Clark et al. 2019, Voita et al. 2019) over the scored "
                    "examples under the full model, stored in /attention."},
      {"pruning", "Iterative pruning curves (Michel et al. 2019; run_bertology.py): masks that remove "
                  "more and more heads in some order, generated before the sweep, scored with it and "
                  "summarised in /pruning."},
      {"stats", "Uncertainty of the scores: a paired bootstrap over the examples (every mask scored on "
                "the same resamples), seeded by `runtime.seed`."},
      {"output", "Where the results go."},
  };
  return sections;
}

// The one declaration of every option. Adding an option: a field in io/plan.h, a row here, then
// regenerate the tables in docs/config.md (the io tests say how when they differ).
const std::vector<OptionSpec>& plan_options() {
  static const std::vector<OptionSpec> table = {
      Opt("model", "path", &Plan::model, &ModelOptions::path)
          .required()
          .help("Hugging Face model folder: config.json, model.safetensors, vocab.txt (and, for "
                "sentence-transformers checkpoints, 1_Pooling/config.json)."),
      Opt("model", "head", &Plan::model, &ModelOptions::head)
          .default_value("auto")
          .one_of({"auto", "classification", "regression", "similarity"})
          .help("What is scored. `auto`: `classification` or `regression` when the checkpoint has a "
                "classifier, otherwise `similarity` (cosine of the two pooled sentence embeddings)."),
      Opt("model", "pooling", &Plan::model, &ModelOptions::pooling)
          .default_value("auto")
          .one_of({"auto", "mean", "cls", "max"})
          .help("How token states become a sentence embedding (a similarity head; a classifier "
                "reads [CLS] through the pooler). `auto`: the checkpoint's 1_Pooling/config.json, or "
                "`mean` when it has none; `max`: each dimension's largest value over the real tokens."),
      Opt("model", "labels", &Plan::model, &ModelOptions::labels)
          .default_value(std::vector<std::string>{"auto"})
          .help("The task label of each classifier output, in output order, e.g. `[contradiction, "
                "entailment, neutral]` for an MNLI checkpoint of the original BERT code. `auto`: "
                "config.json's id2label names, or the task's order when they are generic (LABEL_0, ...)."),

      Opt("task", "name", &Plan::task, &TaskOptions::name)
          .required()
          .allowed("a known task name", nullptr)
          .help("GLUE task, e.g. `mnli`, `sst2`, `stsb`; the error for an unknown name lists them."),
      Opt("task", "data_dir", &Plan::task, &TaskOptions::data_dir)
          .required()
          .help("The GLUE root (holding MNLI/, SST-2/, ...) or the task's own folder."),
      Opt("task", "split", &Plan::task, &TaskOptions::split)
          .default_value("dev")
          .help("Which split file to score."),
      Opt("task", "max_seq_len", &Plan::task, &TaskOptions::max_seq_len)
          .default_value(128)
          .range(3, 512)
          .help("Longest input in tokens, [CLS] and [SEP] included; longer inputs are truncated."),
      Opt("task", "limit", &Plan::task, &TaskOptions::limit)
          .default_value(0)
          .at_least(0)
          .help("Score only `limit` rows of the split (0 = all rows), chosen by `task.sample`."),
      Opt("task", "sample", &Plan::task, &TaskOptions::sample)
          .default_value("first")
          .one_of({"first", "random"})
          .help("Which `limit` rows: `first` reads only the file's first rows; `random` draws them "
                "uniformly without replacement (seeded by `runtime.seed`) and keeps them in file "
                "order. GLUE files are grouped by source (STS-B dev opens with 625 caption pairs), so "
                "the first rows are one genre."),

      // The names are masks::strategies(); a masks test checks that the two lists agree.
      Opt("sweep", "strategy", &Plan::sweep, &SweepOptions::strategies)
          .default_value(std::vector<std::string>{"single-head"})
          .one_of({"baseline", "single-head", "layer", "leave-one-in", "random", "exhaustive-layer",
                   "file"})
          .help("Which masks are scored, the baseline (nothing masked) always first: `baseline` "
                "(1 mask), `single-head` (each head masked alone, 1 + L·H), `layer` (each layer's "
                "heads all masked, 1 + L), `leave-one-in` (one head left in one layer, 1 + L·H), "
                "`random` (heads masked at random, `samples` per sparsity), `exhaustive-layer` "
                "(every subset of one layer's heads, 2^H), `file` (masks read from `path`). A list, "
                "e.g. `[single-head, layer]`, scores the union: each distinct mask once. See "
                "[Strategies](#strategies)."),
      Opt("sweep", "sparsities", &Plan::sweep, &SweepOptions::sparsities)
          .default_value(std::vector<double>{0.25, 0.5, 0.75})
          .allowed("each above 0 and below 1, no repeats", check_sparsities)
          .used_when("sweep.strategy", {"random"})
          .help("Fractions of the L·H heads to mask; each removes round(s·L·H) heads (halves away "
                "from zero)."),
      Opt("sweep", "samples", &Plan::sweep, &SweepOptions::samples)
          .default_value(10)
          .range(1, 1000000)
          .used_when("sweep.strategy", {"random"})
          .help("Distinct random masks per sparsity."),
      Opt("sweep", "seed", &Plan::sweep, &SweepOptions::seed)
          .default_value(0)
          .used_when("sweep.strategy", {"random"})
          .help("Seed of the random masks: the same seed gives the same masks on every machine."),
      Opt("sweep", "min_heads_per_layer", &Plan::sweep, &SweepOptions::min_heads_per_layer)
          .default_value(0)
          .at_least(0)
          .used_when("sweep.strategy", {"random"})
          .help("Heads every layer keeps in every random mask (1: no layer is removed whole). Masks "
                "are drawn uniformly from those that keep them, not by redrawing."),
      Opt("sweep", "layer", &Plan::sweep, &SweepOptions::layer)
          .required()
          .at_least(0)
          .used_when("sweep.strategy", {"exhaustive-layer"})
          .help("The layer whose heads are masked in every combination (0-based; below L)."),
      Opt("sweep", "path", &Plan::sweep, &SweepOptions::path)
          .required()
          .used_when("sweep.strategy", {"file"})
          .help("File of masks: HDF5 (e.g. another run's results file), `.npy`, or text with the "
                "masked heads of one mask per line (`L0.H3 L2.H11`)."),
      Opt("sweep", "dataset", &Plan::sweep, &SweepOptions::dataset)
          .default_value("/masks")
          .used_when("sweep.strategy", {"file"})
          .help("The dataset of an HDF5 `path` that holds the masks, integers or booleans (N, L, H) or "
                "(L, H), 1 = head kept."),

      Opt("runtime", "device", &Plan::runtime, &RuntimeOptions::device)
          .default_value("cpu")
          .allowed("`cpu`, `cuda`, `cuda:N`, `auto`", check_device)
          .help("Where the sweep runs. `cuda` is `cuda:0`; `auto` is the first CUDA device that can "
                "run headsweep's kernels when this build has the CUDA ops (a CUDA libtorch), otherwise "
                "the CPU. A GPU the kernels were not compiled for (compute capability below 8.0, or "
                "outside CMAKE_CUDA_ARCHITECTURES) is refused by `cuda`, and passed over by `auto` with "
                "a line in the log saying why. Gradient importance "
                "and attention statistics run on the same device, in float32 whatever `runtime.dtype` "
                "is. The results file stores it as where "
                "the sweep ran, `cpu` or `cuda`, and a run resumes or merges only with files of the same."),
      Opt("runtime", "dtype", &Plan::runtime, &RuntimeOptions::dtype)
          .default_value("fp32")
          .one_of({"fp32", "bf16", "fp16"})
          .help("Precision of the model the sweep runs on CUDA (sums accumulate in fp32 either "
                "way). `bf16` and `fp16` need `runtime.device` on CUDA; on an H200 they agree "
                "with the CPU's metrics within about 1e-3 (docs/performance.md#gpu). The CPU always "
                "runs fp32."),
      Opt("runtime", "attention", &Plan::runtime, &RuntimeOptions::attention)
          .default_value("auto")
          .one_of({"auto", "fused", "kernel"})
          .help("The attention the sweep runs on CUDA: `fused` is libtorch's "
                "`scaled_dot_product_attention` (every head computed, then gated), `kernel` "
                "headsweep's gated attention kernel (gated-off heads cost nothing; tensor cores for "
                "bf16/fp16; head dims 32, 64 and 128 only, checked before the sweep starts). `auto` "
                "is `fused`, the faster on the GPU measured so far "
                "(docs/performance.md#gpu). `fused` and `kernel` need `runtime.device` on CUDA; the "
                "CPU runs libtorch's composite."),
      Opt("runtime", "threads", &Plan::runtime, &RuntimeOptions::threads)
          .default_value(0)
          .range(0, 4096)
          .help("CPU threads (0 = all cores). Batches are spread over one worker per thread, each "
                "with single-threaded GEMMs; with fewer batches than threads, workers share the rest."),
      Opt("runtime", "streams", &Plan::runtime, &RuntimeOptions::streams)
          .default_value(2)
          .range(1, 16)
          .help("On CUDA: host threads that share the batches, each launching on its own CUDA stream, "
                "so that one thread's copies back to the host and launch gaps are covered by the "
                "other's kernels. Each holds one batch's activations. Ignored on the CPU."),
      Opt("runtime", "token_budget", &Plan::runtime, &RuntimeOptions::token_budget)
          .default_value(0)
          .allowed("0, or at least 64", check_token_budget)
          .help("Tokens per forward batch, padding included; bounds memory use. 0 is the device's "
                "own: 8192 on the CPU, 32768 on CUDA (the size the GPU benchmark measures: a GPU "
                "wants each launch large). On the CPU, with several threads, batches are cut "
                "smaller (about 4 per worker) when the data is small."),
      Opt("runtime", "executor", &Plan::runtime, &RuntimeOptions::executor)
          .default_value("trie")
          .one_of({"trie", "naive"})
          .help("`trie` computes each distinct mask prefix once, shares a layer's attention between "
                "masks that differ only there, and skips gated-off heads; `naive` runs one full "
                "forward pass per mask (the reference the trie is tested against)."),
      Opt("runtime", "seed", &Plan::runtime, &RuntimeOptions::seed)
          .default_value(0)
          .help("Seed of the run's own randomness (bootstrap resampling); random masks are drawn "
                "from `sweep.seed`, so they stay the same when this changes."),
      Opt("runtime", "progress", &Plan::runtime, &RuntimeOptions::progress)
          .default_value("auto")
          .one_of({"auto", "bar", "lines", "none"})
          .help("Progress display: `bar` redraws one line, `lines` prints a line at most every 10 s and "
                "one at the end (for log files), `none` is silent; `auto` is `bar` on a terminal, otherwise `lines`."),

      Opt("importance", "method", &Plan::importance, &ImportanceOptions::method)
          .default_value("none")
          .one_of({"none", "michel", "bertology"})
          .help("`michel`: Michel et al. 2019's per-token |g·dL/dg| (a head gated off scores 0), "
                "divided by tokens (the last layer of a head that reads only [CLS], such as a "
                "classifier on the pooler, by examples), loss summed; "
                "`bertology`: Hugging Face run_bertology.py's |accumulated head-mask gradient| divided "
                "by tokens, loss averaged (docs/importance.md)."),
      Opt("importance", "split", &Plan::importance, &ImportanceOptions::split)
          .default_value("auto")
          .help("Data the gradients are taken on: `auto` is what the method's authors used (`train` "
                "for michel, `dev` for bertology), or a split of `task.name`."),
      Opt("importance", "limit", &Plan::importance, &ImportanceOptions::limit)
          .default_value(0)
          .at_least(0)
          .help("N examples of the split (0: all), chosen by `importance.sample`."),
      Opt("importance", "sample", &Plan::importance, &ImportanceOptions::sample)
          .default_value("first")
          .one_of({"first", "random"})
          .help("Which `limit` examples: the split's first, or drawn at random as `task.sample` "
                "draws (seeded by `runtime.seed` + 1), kept in file order (batches follow it)."),
      Opt("importance", "batch_size", &Plan::importance, &ImportanceOptions::batch_size)
          .default_value(32)
          .range(1, 65536)
          .help("Examples per backward pass, taken in file order (bertology's scores depend on it)."),
      Opt("importance", "normalize", &Plan::importance, &ImportanceOptions::normalize)
          .default_value(true)
          .help("Apply the method's published normalisation: per-layer l2 (michel), per-layer l2 then "
                "min-max over all heads (bertology). The raw values are stored too."),

      Opt("attention", "statistics", &Plan::attention, &AttentionOptions::statistics)
          .default_value(false)
          .help("Mean attention mass on [CLS], [SEP], \".\" and \",\", the token itself, the previous "
                "and the next token; mean entropy; confidence (mean largest weight outside [CLS] and "
                "[SEP]): one (L, H) dataset each, a mean over each sequence's real query tokens, then "
                "over sequences (Clark et al. 2019; docs/importance.md)."),

      Opt("pruning", "schedule", &Plan::pruning, &PruningOptions::schedule)
          .default_value("none")
          .one_of({"none", "percent", "count"})
          .help("`percent`: remove ⌊f·L·H⌋ heads in total at each f of `fractions` (Michel); "
                "`count`: `count` more heads per step, scores recomputed each step, until no head "
                "may go (bertology)."),
      Opt("pruning", "fractions", &Plan::pruning, &PruningOptions::fractions)
          .default_value(std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9})
          .allowed("increasing, each from 0 to 1", check_fractions)
          .used_when("pruning.schedule", {"percent"})
          .help("Fractions of all heads removed, increasing, each in [0, 1]; the full model is "
                "always step 0."),
      Opt("pruning", "count", &Plan::pruning, &PruningOptions::count)
          .default_value(0)
          .at_least(0)
          .used_when("pruning.schedule", {"count"})
          .help("Heads removed per step; 0: max(1, round(0.1·L·H)), run_bertology's default "
                "masking_amount."),
      Opt("pruning", "recompute", &Plan::pruning, &PruningOptions::recompute)
          .default_value(false)
          .used_when("pruning.schedule", {"percent"})
          .help("Take the gradient importance again under each step's mask (the count schedule "
                "always does); otherwise rank once, on the full model."),
      Opt("pruning", "min_heads_per_layer", &Plan::pruning, &PruningOptions::min_heads_per_layer)
          .default_value(0)
          .at_least(0)
          .help("Heads every layer keeps; the curve ends when no other head may go."),
      Opt("pruning", "orders", &Plan::pruning, &PruningOptions::orders)
          .default_value(std::vector<std::string>{"importance"})
          .one_of({"importance", "random", "ablation"})
          .help("Head orders, one curve each: `importance` (gradient importance, `importance.method`), "
                "`random` (`random_orders` seeded orders, the baseline curve), `ablation` (single-head "
                "drops read from `ablation_from`)."),
      Opt("pruning", "random_orders", &Plan::pruning, &PruningOptions::random_orders)
          .default_value(3)
          .at_least(1)
          .help("Random orders (seeds `runtime.seed` + 0, 1, ...)."),
      Opt("pruning", "ablation_from", &Plan::pruning, &PruningOptions::ablation_from)
          .default_value("")
          .help("A results file of the same model and task holding single-head masks (e.g. a "
                "`single-head` sweep): its score drops give the `ablation` order."),
      Opt("pruning", "tolerance", &Plan::pruning, &PruningOptions::tolerance)
          .default_value(0.01)
          .range(0, 1)
          .help("Summary: the largest fraction pruned with every step's drop of the primary metric "
                "at most this (0.01 = 1 point)."),
      Opt("pruning", "alpha", &Plan::pruning, &PruningOptions::alpha)
          .default_value(0.05)
          .range(0.001, 0.5)
          .help("Summary: the largest fraction pruned with no step's drop significant at this level "
                "(bootstrap p-value, `stats.bootstrap`)."),

      Opt("stats", "bootstrap", &Plan::stats, &StatsOptions::bootstrap)
          .default_value(1000)
          .at_least(0)
          .help("Bootstrap resamples for each mask's confidence interval and for the interval and "
                "p-value of its difference from the baseline (0: none). Computed once every mask "
                "of the sweep is scored: at the end of an unsharded run, or by `headsweep merge`."),
      Opt("stats", "confidence", &Plan::stats, &StatsOptions::confidence)
          .default_value(0.95)
          .range(0.5, 0.999)
          .help("Confidence level of the bootstrap intervals (percentile method)."),

      Opt("output", "path", &Plan::output, &OutputOptions::path)
          .required()
          .help("The HDF5 results file (docs/hdf5-schema.md); missing parent folders are created."),
      Opt("output", "overwrite", &Plan::output, &OutputOptions::overwrite)
          .default_value(false)
          .help("Replace `output.path` when it is an existing results file (HDF5; any other file is "
                "refused, never replaced); otherwise an existing file of the same sweep is resumed (or "
                "left alone when complete) and any other is refused (docs/cluster.md)."),
  };
  return table;
}

std::string type_name(OptionType t) {
  switch (t) {
    case OptionType::String: return "string";
    case OptionType::Int: return "integer";
    case OptionType::Float: return "number";
    case OptionType::Bool: return "boolean";
    case OptionType::FloatList: return "list of numbers";
    case OptionType::StringList: return "string or list of strings";
  }
  return "";
}

std::string value_yaml(const OptionSpec& spec, const Value& v) {
  switch (spec.type) {
    case OptionType::String: {
      const auto& s = std::get<std::string>(v);
      if (plain_safe(s)) return s;
      // Double quotes keep "2024", "yes" or "" strings for any YAML reader; $${ keeps a literal ${.
      return quoted(escape_env(s));
    }
    case OptionType::Int: return std::to_string(std::get<int64_t>(v));
    case OptionType::Float: return number_text(std::get<double>(v));
    case OptionType::Bool: return std::get<bool>(v) ? "true" : "false";
    case OptionType::FloatList: {
      std::string out = "[";
      const auto& list = std::get<std::vector<double>>(v);
      for (size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + number_text(list[i]);
      return out + "]";
    }
    case OptionType::StringList: {
      // A list of one is written as the plain scalar, as users write it.
      // Inside [...] a ':' could start a map entry, so such items are quoted too.
      auto item = [](const std::string& s) {
        return plain_safe(s) && s.find(':') == std::string::npos ? s : quoted(escape_env(s));
      };
      const auto& list = std::get<std::vector<std::string>>(v);
      if (list.size() == 1) return item(list[0]);
      std::string out = "[";
      for (size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + item(list[i]);
      return out + "]";
    }
  }
  return "";
}

std::string options_markdown(const std::vector<SectionSpec>& sections,
                             const std::vector<OptionSpec>& options) {
  std::string out;
  for (const auto& sec : sections) {
    out += fmt::format("### `{}`\n\n{}\n\n", sec.name, sec.help);
    out += "| Option | Type | Default | Allowed | Description |\n";
    out += "|---|---|---|---|---|\n";
    for (const auto& s : options) {
      if (s.section != sec.name) continue;
      std::string help = s.help;
      if (s.used_when) {
        std::string values;
        for (size_t i = 0; i < s.used_when->values.size(); ++i)
          values += (i ? " or `" : "`") + s.used_when->values[i] + "`";
        help += fmt::format(" Only with `{}` {}.", s.used_when->key, values);
      }
      out += fmt::format("| `{}` | {} | {} | {} | {} |\n", s.key(), type_name(s.type),
                         cell(default_doc(s)), cell(allowed_doc(s)), cell(help));
    }
    out += "\n";
  }
  return out;
}

std::string options_markdown() { return options_markdown(plan_sections(), plan_options()); }

}  // namespace hs::io
