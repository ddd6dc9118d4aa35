// docs/cluster.md's SLURM workflow on a real SLURM cluster: a one-node cluster (munged, slurmctld,
// slurmd) started for the test in a temporary folder, the documented array script submitted with
// sbatch, one task cancelled with scancel while it writes and submitted again by its index, and the
// shards merged by a job that waits for the array (afterok). The merged file must equal an
// unsharded run's. Without SLURM's daemons installed the test is skipped; in CI it fails.
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "cli_runner.h"
#include "io/results_file.h"
#include "shell.h"
#include "test_env.h"

namespace fs = std::filesystem;
using hs::test::run_cli;
using hs::test::Shell;
using hs::test::sh;

namespace {

std::string tail(const std::string& path, int lines = 15) { return sh(fmt::format("tail -n {} {}", lines, path)).out; }

bool eventually(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// A one-node SLURM cluster of this machine, run as the current user with its state, sockets and
// logs in `dir`; SLURM_CONF points this process and its children (sbatch, the jobs) at it.
class SlurmCluster {
 public:
  explicit SlurmCluster(const std::string& dir) : dir_(dir) {
    for (const char* tool : {"munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "srun"}) {
      if (sh(fmt::format("command -v {} || test -x /usr/sbin/{}", tool, tool)).status != 0) {
        missing_ = fmt::format("{} not found (scripts/setup.sh installs slurmctld, slurmd, slurm-client, munge)", tool);
        return;
      }
    }
    for (const char* sub : {"munge", "state", "spool", "log"}) fs::create_directories(dir_ + "/" + sub);
    ::chmod(dir_.c_str(), 0700);
    ::chmod((dir_ + "/munge").c_str(), 0700);
    {
      std::random_device rd;
      std::ofstream key(dir_ + "/munge/munge.key", std::ios::binary);
      for (int i = 0; i < 1024; ++i) key.put(static_cast<char>(rd() & 0xff));
    }
    ::chmod((dir_ + "/munge/munge.key").c_str(), 0400);
    started_ = true;
    // -f: munged refuses to run as root, or with a socket folder under /tmp, unless forced.
    const Shell m = sh(fmt::format("/usr/sbin/munged -f --socket={0}/munge/sock --key-file={0}/munge/munge.key "
                                   "--log-file={0}/log/munged.log --pid-file={0}/munge/pid --seed-file={0}/munge/seed",
                                   dir_));
    if (m.status != 0) {
      failed_ = "munged did not start: " + m.out;
      return;
    }
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    const std::string node = std::string(host).substr(0, std::string(host).find('.'));
    const passwd* pw = ::getpwuid(::getuid());
    const std::string user = pw ? pw->pw_name : "root";
    // Ports from the process ID, so that two test runs on one machine do not meet.
    const int port = 20000 + static_cast<int>(::getpid() % 20000) / 2 * 2;
    hs::test::write_file(dir_ + "/slurm.conf", fmt::format(R"(ClusterName=headsweep-test
SlurmctldHost={node}(127.0.0.1)
SlurmUser={user}
SlurmdUser={user}
SlurmctldPort={port}
SlurmdPort={port1}
AuthType=auth/munge
AuthInfo=socket={dir}/munge/sock
CredType=cred/munge
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/log/slurmctld.log
SlurmdLogFile={dir}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
KillWait=5
NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=test Nodes={node} Default=YES MaxTime=INFINITE State=UP
)",
                                                           fmt::arg("node", node), fmt::arg("user", user),
                                                           fmt::arg("port", port), fmt::arg("port1", port + 1),
                                                           fmt::arg("dir", dir_),
                                                           fmt::arg("cpus", std::max(2u, std::thread::hardware_concurrency()))));
    ::setenv("SLURM_CONF", (dir_ + "/slurm.conf").c_str(), 1);
    for (const char* daemon : {"slurmctld", "slurmd"}) {
      const Shell d = sh(fmt::format("/usr/sbin/{} -f {}/slurm.conf", daemon, dir_));
      if (d.status != 0) {
        failed_ = fmt::format("{} did not start: {}\n{}", daemon, d.out, tail(fmt::format("{}/log/{}.log", dir_, daemon)));
        return;
      }
    }
    if (!eventually([] { return sh("sinfo -h -o %T").out.find("idle") != std::string::npos; }, std::chrono::seconds(60))) {
      failed_ = "the node never became idle: " + sh("sinfo -h -o '%T %E'").out + "\n" + logs();
    }
  }

  ~SlurmCluster() {
    if (!started_) return;
    sh("scancel --user=$(id -un)");
    for (const char* pid_file : {"slurmd.pid", "slurmctld.pid", "munge/pid"}) {
      std::ifstream f(dir_ + "/" + pid_file);
      pid_t pid = 0;
      if (!(f >> pid) || pid <= 0) continue;
      ::kill(pid, SIGTERM);
      eventually([pid] { return ::kill(pid, 0) != 0; }, std::chrono::seconds(15));
    }
    ::unsetenv("SLURM_CONF");
  }

  const std::string& missing() const { return missing_; }
  const std::string& failed() const { return failed_; }
  std::string logs() const {
    return "slurmctld.log:\n" + tail(dir_ + "/log/slurmctld.log") + "slurmd.log:\n" + tail(dir_ + "/log/slurmd.log");
  }

  // The job's state as scontrol reports it (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, ...).
  static std::vector<std::string> states(const std::string& job) {
    const std::string out = sh("scontrol -o show job " + job).out;
    std::vector<std::string> s;
    for (size_t at = out.find("JobState="); at != std::string::npos; at = out.find("JobState=", at + 1)) {
      const size_t from = at + 9;
      s.push_back(out.substr(from, out.find(' ', from) - from));
    }
    return s;
  }
  static bool ended(const std::string& job) {
    const auto s = states(job);
    return !s.empty() && std::none_of(s.begin(), s.end(), [](const std::string& x) {
      return x == "PENDING" || x == "RUNNING" || x == "CONFIGURING" || x == "COMPLETING" || x == "REQUEUED";
    });
  }

 private:
  std::string dir_, missing_, failed_;
  bool started_ = false;
};

int64_t masks_done(const std::string& path) {
  if (!fs::exists(path)) return -1;
  try {
    const auto done = hs::io::ResultsFile::open(path).masks_done();
    return std::count(done.begin(), done.end(), uint8_t{1});
  } catch (const std::exception&) {
    return -1;  // created, not yet readable
  }
}

}  // namespace

CATCH_TEST_CASE("SLURM: the documented array job, a task cancelled and resubmitted, and the afterok merge",
                "[cli][e2e][slurm]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  ::setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);  // the test reads shard files while tasks write them
  const std::string dir = hs::test::temp_dir("slurm");
  SlurmCluster cluster(dir + "/cluster");
  if (!cluster.missing().empty()) {
    if (hs::test::require_data()) CATCH_FAIL(cluster.missing() + ": required in CI");
    CATCH_WARN("skipped: " << cluster.missing());
    return;
  }
  CATCH_INFO(cluster.logs());
  CATCH_REQUIRE(cluster.failed() == "");

  // A sweep small enough for a test, slow enough that a task can be cancelled while it writes.
  const std::string results = dir + "/results", cfg = dir + "/sweep.yaml";
  fs::create_directories(results);
  fs::create_directories(dir + "/logs");
  hs::test::write_file(cfg, fmt::format(R"(model:
  path: {}
task:
  name: stsb
  data_dir: {}
  limit: 16
sweep:
  strategy: single-head
runtime:
  threads: 1
  executor: naive
output:
  path: {}/sweep.h5
)",
                                        model, glue, results));
  // docs/cluster.md's sweep.sbatch, with this test's paths.
  const std::string script = dir + "/sweep.sbatch";
  hs::test::write_file(script, fmt::format(R"(#!/bin/bash
#SBATCH --job-name=heads
#SBATCH --array=0-2
#SBATCH --requeue
#SBATCH --output={0}/logs/%x-%A_%a.log
set -euo pipefail
srun {1} run {2} --shard "$SLURM_ARRAY_TASK_ID/3" --set runtime.progress=lines
)",
                                           dir, hs::test::binary(), cfg));
  const std::string full = dir + "/full.h5";
  const auto whole = run_cli({"run", cfg, "--output", full, "--set", "runtime.progress=lines"});
  CATCH_INFO(whole.out << whole.err);
  CATCH_REQUIRE(whole.status == 0);

  const Shell submit = sh(fmt::format("cd {} && sbatch --parsable {}", dir, script));
  CATCH_INFO(submit.out);
  CATCH_REQUIRE(submit.status == 0);
  const std::string array = submit.out.substr(0, submit.out.find_first_of(";\n"));

  // Task 1 is cancelled (SIGTERM, as on preemption) once some of its masks are in its file.
  const std::string shard1 = results + "/sweep.shard-1-of-3.h5";
  CATCH_REQUIRE(eventually([&] { return masks_done(shard1) >= 2; }, std::chrono::seconds(180)));
  CATCH_REQUIRE(sh(fmt::format("scancel {}_1", array)).status == 0);
  CATCH_REQUIRE(eventually([&] { return SlurmCluster::ended(array); }, std::chrono::seconds(300)));
  const int64_t before = masks_done(shard1);
  CATCH_INFO("shard 1 had " << before << " of its masks when cancelled");
  CATCH_REQUIRE(before >= 2);
  CATCH_CHECK_FALSE(hs::io::ResultsFile::open(shard1).info().complete);
  const auto array_states = SlurmCluster::states(array);
  CATCH_CHECK(std::count(array_states.begin(), array_states.end(), "COMPLETED") == 2);
  CATCH_CHECK(std::count(array_states.begin(), array_states.end(), "CANCELLED") == 1);

  // Without --shard, a task submitted on its own takes SLURM's count of 1 and must refuse rather
  // than score the whole sweep as "shard 0 of 1".
  const Shell lone = sh(fmt::format("cd {0} && sbatch --parsable --array=1 --output={0}/logs/lone.log --wrap "
                                    "'srun {1} run {2}'",
                                    dir, hs::test::binary(), cfg));
  CATCH_REQUIRE(lone.status == 0);
  const std::string lone_job = lone.out.substr(0, lone.out.find_first_of(";\n"));
  CATCH_REQUIRE(eventually([&] { return SlurmCluster::ended(lone_job); }, std::chrono::seconds(120)));
  const std::string lone_log = hs::test::read_file(dir + "/logs/lone.log");
  CATCH_INFO("lone task's log: " << lone_log);
  CATCH_CHECK(SlurmCluster::states(lone_job) == std::vector<std::string>{"FAILED"});
  CATCH_CHECK(lone_log.find("headsweep: error: SLURM_ARRAY_TASK_ID=1, SLURM_ARRAY_TASK_COUNT=1, "
                            "SLURM_ARRAY_TASK_MIN=1") != std::string::npos);
  CATCH_CHECK(lone_log.find("pass --shard INDEX/COUNT") != std::string::npos);
  CATCH_CHECK_FALSE(fs::exists(results + "/sweep.shard-0-of-1.h5"));

  // The task submitted again by its index resumes its shard; the merge waits for it.
  const Shell again = sh(fmt::format("cd {} && sbatch --parsable --array=1 {}", dir, script));
  CATCH_INFO(again.out);
  CATCH_REQUIRE(again.status == 0);
  const std::string rerun = again.out.substr(0, again.out.find_first_of(";\n"));
  const std::string merged = results + "/merged.h5";
  const Shell merge = sh(fmt::format("cd {} && sbatch --parsable --dependency=afterok:{} --output={}/logs/merge.log "
                                     "--wrap '{} merge {} {}/sweep.shard-*-of-3.h5'",
                                     dir, rerun, dir, hs::test::binary(), merged, results));
  CATCH_INFO(merge.out);
  CATCH_REQUIRE(merge.status == 0);
  const std::string merge_job = merge.out.substr(0, merge.out.find_first_of(";\n"));
  CATCH_REQUIRE(eventually([&] { return SlurmCluster::ended(merge_job); }, std::chrono::seconds(300)));
  CATCH_INFO("merge log: " << hs::test::read_file(dir + "/logs/merge.log"));
  CATCH_REQUIRE(SlurmCluster::states(rerun) == std::vector<std::string>{"COMPLETED"});
  CATCH_REQUIRE(SlurmCluster::states(merge_job) == std::vector<std::string>{"COMPLETED"});

  const std::string rerun_log = hs::test::read_file(fmt::format("{}/logs/heads-{}_1.log", dir, rerun));
  CATCH_INFO("rerun log: " << rerun_log);
  CATCH_CHECK(rerun_log.find("headsweep: shard 1 of 3 (--shard 1/3)") != std::string::npos);
  CATCH_CHECK(rerun_log.find(fmt::format("headsweep: resuming {}: {} of ", shard1, before)) != std::string::npos);

  const auto m = hs::io::ResultsFile::open(merged);
  CATCH_CHECK(m.info().complete);
  const std::string cmd = fmt::format("/usr/bin/python3 {}/tests/cli/compare_results.py {} {} --ignore-attrs "
                                      "created,merged_from",
                                      hs::test::source_dir(), merged, full);
  CATCH_INFO(cmd);
  CATCH_CHECK(std::system(cmd.c_str()) == 0);
}
