// headsweep: attention-head ablation sweeps for BERT-style encoders.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <hdf5.h>

#include "cli/commands.h"
#include "model/heap.h"
#include "util/error.h"

int main(int argc, char** argv) {
  // HDF5 closes files still open when the process exits; a file whose close already failed (a full
  // disk) then crashes HDF5 1.10 (a segfault after the error message). Every file headsweep opens is
  // closed by its owner, so the exit handler has nothing to do.
  H5dont_atexit();
  CLI::App app{"headsweep: mask attention heads or layers of a BERT-style encoder, re-score it on GLUE data, "
               "and write the results to HDF5."};
  hs::model::bound_heap_retention();
  app.set_version_flag("--version", HEADSWEEP_VERSION);
  app.require_subcommand(1);
  int status = 0;
  hs::cli::add_run_command(app, &status);
  hs::cli::add_validate_command(app, &status);
  hs::cli::add_info_command(app, &status);
  hs::cli::add_data_command(app, &status);
  hs::cli::add_env_command(app, &status);
  hs::cli::add_merge_command(app, &status);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const hs::InputError& e) {
    std::fprintf(stderr, "headsweep: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "headsweep: internal error: %s\n", e.what());
    return 1;
  }
  return status;
}
