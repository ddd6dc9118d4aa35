#include <fmt/format.h>

#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "data/glue_tasks.h"
#include "data/summary.h"
#include "text/tokenizer.h"

namespace hs::cli {

void add_data_command(CLI::App& app, int* status) {
  auto* cmd = app.add_subcommand("data", "Check a GLUE task's files: rows, label distribution, token lengths");
  struct Args {
    std::string task, dir, split = "dev", model;
    int max_seq_len = 128;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("task", a->task, "task name (cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli)")->required();
  cmd->add_option("dir", a->dir, "GLUE folder (containing e.g. STS-B/) or the task's own folder")->required();
  cmd->add_option("--split", a->split, "split to read (dev, train, ...)")->capture_default_str();
  cmd->add_option("--model", a->model, "model folder whose vocab.txt gives WordPiece token lengths (without it: words)");
  cmd->add_option("--max-seq-len", a->max_seq_len, "report how many inputs exceed this many tokens (3 to 512, as task.max_seq_len)")
      ->check(CLI::Range(3, 512))
      ->capture_default_str();
  cmd->callback([a, status] {
    const data::TaskSpec& task = data::find_task(a->task);
    const data::Dataset ds = data::load_split(task, a->dir, a->split, 0);
    std::vector<int> lengths;
    std::string unit = "words";
    if (!a->model.empty()) {
      const text::Tokenizer tok = text::Tokenizer::from_model_dir(a->model);
      unit = "WordPiece tokens incl. [CLS]/[SEP]";
      for (const data::Example& ex : ds.examples) {
        const text::Encoding e = task.has_pair() ? tok.encode_pair(ex.text_a, ex.text_b, 1 << 20) : tok.encode(ex.text_a, 1 << 20);
        lengths.push_back(static_cast<int>(e.input_ids.size()));
      }
    } else {
      for (const data::Example& ex : ds.examples) {
        std::istringstream ss(ex.text_a + " " + ex.text_b);
        std::string w;
        int n = 0;
        while (ss >> w) ++n;
        lengths.push_back(n);
      }
    }
    fmt::print("{}", data::format_summary(data::summarize(ds, lengths, a->max_seq_len), unit));
    *status = 0;
  });
}

}  // namespace hs::cli
