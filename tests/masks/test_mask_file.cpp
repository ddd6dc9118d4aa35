// The file strategy: text, .npy and HDF5 mask files (fixtures written by numpy and h5py, see
// fixtures/make_fixtures.py, and a real results file), and every error with its message. The
// fixtures are for a model of L = 2 layers of H = 3 heads.
#include <cstdlib>
#include <sys/stat.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>


#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "io/results.h"
#include "masks/mask_file.h"
#include "masks/npy.h"
#include "masks/strategies.h"
#include "results_header.h"
#include "temp_dir.h"
#include "test_env.h"
#include "util/error.h"

using hs::masks::MaskSet;
using hs::masks::read_mask_file;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

using hs::test::TempDir;

namespace {

constexpr int L = 2, H = 3;

std::string fixture(const std::string& name) {
  return hs::test::source_dir() + "/tests/masks/fixtures/" + name;
}

std::vector<uint8_t> row(const MaskSet& s, int64_t n) { return {s.mask(n), s.mask(n) + L * H}; }

// The fixtures' masks: the baseline, L0.H0 masked, L1.H0 and L1.H1 masked.
const std::vector<uint8_t> kM1 = {0, 1, 1, 1, 1, 1};
const std::vector<uint8_t> kM2 = {1, 1, 1, 0, 0, 1};

void check_fixture_masks(const MaskSet& s, const std::string& stem) {
  CATCH_REQUIRE(s.size() == 3);
  CATCH_CHECK(s.names() == std::vector<std::string>{"baseline", stem + "#1", stem + "#2"});
  CATCH_CHECK(s.heads_kept(0) == L * H);
  CATCH_CHECK(row(s, 1) == kM1);
  CATCH_CHECK(row(s, 2) == kM2);
}

}  // namespace

CATCH_TEST_CASE("file: text masks list the heads they remove", "[masks][file]") {
  TempDir dir;
  const std::string path = dir.write("masks.txt",
                                     "# masks for a 2 x 3 model\n"
                                     "L0.H0\n"
                                     "L1.H0 L1.H1   # two heads\n"
                                     "-L0.H2,L1.H2\r\n"
                                     "\tL1\n"
                                     "-\n"
                                     "\n"
                                     "L1.H1 L1.H0\n"
                                     "L0 L1");  // no final newline
  const MaskSet s = read_mask_file(path, "", L, H);
  CATCH_CHECK(s.names() == std::vector<std::string>{"baseline", "-L0.H0", "-L1.H0-L1.H1", "-L0.H2-L1.H2",
                                                    "-L1", "-L0-L1"});
  CATCH_CHECK(row(s, 1) == kM1);
  CATCH_CHECK(row(s, 2) == kM2);
  CATCH_CHECK(row(s, 3) == std::vector<uint8_t>{1, 1, 0, 1, 1, 0});
  CATCH_CHECK(row(s, 4) == std::vector<uint8_t>{1, 1, 1, 0, 0, 0});
  CATCH_CHECK(s.heads_kept(5) == 0);

  // Only the baseline is a valid (if small) file.
  CATCH_CHECK(read_mask_file(dir.write("base.txt", "-\n"), "", L, H).size() == 1);
}

CATCH_TEST_CASE("file: text errors name FILE:LINE", "[masks][file][errors]") {
  TempDir dir;
  auto err = [&](const std::string& text) {
    const std::string p = dir.write("bad.txt", text);
    try {
      read_mask_file(p, "", L, H);
    } catch (const hs::InputError& e) {
      const std::string msg = e.what();
      return msg.rfind(p, 0) == 0 ? msg.substr(p.size()) : msg;
    }
    return std::string("no error");
  };
  CATCH_CHECK(err("L0.H1\nL0.H3\n") == ":2: L0.H3: no head 3; the model has 3 heads per layer, H0 to H2");
  CATCH_CHECK(err("# c\n\nL2.H0\n") == ":3: L2.H0: no layer 2; the model has 2 layers, L0 to L1");
  CATCH_CHECK(err("L5\n") == ":1: L5: no layer 5; the model has 2 layers, L0 to L1");
  CATCH_CHECK(err("L0H1\n") == ":1: expected heads to mask like L0.H3 (or L3 for a whole layer), got \"L0H1\"");
  CATCH_CHECK(err("l0.h1\n") == ":1: expected heads to mask like L0.H3 (or L3 for a whole layer), got \"l0.h1\"");
  CATCH_CHECK(err("L0.H1x\n") == ":1: expected heads to mask like L0.H3 (or L3 for a whole layer), got \"L0.H1x\"");
  CATCH_CHECK(err("L0.H1 L0.H1\n") == ":1: L0.H1 is masked twice on this line");
  CATCH_CHECK(err("L0\nL0 L0.H2\n") == ":2: L0.H2 is masked twice on this line");
  CATCH_CHECK(err("- L0.H1\n") == ":1: '-' (the baseline) must be alone on its line");
  CATCH_CHECK(err("L0.H1\nL1.H\xff\x01\n") == ":2:5: invalid UTF-8 (byte 0xff)");  // not echoed raw
  CATCH_CHECK(err(std::string("L0.H1 # ok\xc3\xa9\n\0\n", 15)) == ":2:1: NUL byte in a text file");
  CATCH_CHECK(err("# nothing but comments\n") ==
              ": no masks (one mask per line: the heads it masks, e.g. L0.H3 L2.H11; an empty line or - is "
              "the baseline)");
  CATCH_CHECK(err("") == err("# nothing but comments\n"));
}

CATCH_TEST_CASE("file: .npy masks of every integer and bool type, both orders, both shapes", "[masks][file]") {
  for (const char* name : {"u1_nlh.npy", "bool_nlh.npy", "i4be_fortran.npy", "v2_u2.npy"}) {
    CATCH_INFO(name);
    check_fixture_masks(read_mask_file(fixture(name), "", L, H), name);
  }
  const MaskSet one = read_mask_file(fixture("i8_lh.npy"), "/masks", L, H);
  CATCH_REQUIRE(one.size() == 2);
  CATCH_CHECK(one.names()[1] == "i8_lh.npy#0");
  CATCH_CHECK(row(one, 1) == std::vector<uint8_t>{1, 0, 1, 1, 1, 0});

  const hs::masks::NpyArray a = hs::masks::read_npy(fixture("i4be_fortran.npy"));
  CATCH_CHECK(a.descr == ">i4");
  CATCH_CHECK(a.shape == std::vector<int64_t>{3, 2, 3});
  CATCH_CHECK(hs::masks::is_npy_file(fixture("u1_nlh.npy")));
  CATCH_CHECK_FALSE(hs::masks::is_npy_file(fixture("masks.h5")));
}

CATCH_TEST_CASE("file: .npy errors", "[masks][file][errors]") {
  auto err = [](const std::string& name, const std::string& dataset = "") {
    try {
      read_mask_file(fixture(name), dataset, L, H);
    } catch (const hs::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto f = [](const std::string& name) { return fixture(name); };
  CATCH_CHECK(err("f4.npy") == f("f4.npy") +
                                   ": dtype '<f4' is not supported; masks must be bool, uint8 or another integer type");
  CATCH_CHECK(err("value2.npy") == f("value2.npy") + ": mask 1, L0.H2 is 2; masks hold 0 (head masked) or 1 (kept)");
  CATCH_CHECK(err("negative.npy") == f("negative.npy") + ": mask 2, L1.H1 is -1; masks hold 0 (head masked) or 1 (kept)");
  CATCH_CHECK(err("shape_3x3.npy") ==
              f("shape_3x3.npy") + ": masks of shape (2, 3, 3) do not fit the model, which has L = 2 layers of "
                                   "H = 3 heads: expected (N, 2, 3) or (2, 3)");
  CATCH_CHECK(err("rank1.npy") == f("rank1.npy") + ": expected masks of shape (N, L, H) or (L, H), got shape (6,)");
  CATCH_CHECK(err("empty.npy") == f("empty.npy") + ": no masks (shape (0, 2, 3))");
  CATCH_CHECK(err("structured.npy") ==
              f("structured.npy") + ": structured dtypes (records of fields) are not supported; masks must be "
                                    "bool, uint8 or another integer type");
  CATCH_CHECK(err("truncated.npy") ==
              f("truncated.npy") + ": truncated: the shape needs 18 bytes of data, the file has 16");
  CATCH_CHECK(err("u1_nlh.npy", "/other") ==
              "sweep.dataset: /other, but only HDF5 files have datasets, and " + f("u1_nlh.npy") + " is a .npy file");
  // Found once the file is opened, but placed at the option in the config.
  hs::io::OptionWhere where;
  where.set("sweep.dataset", "sweep.yaml:9:12");
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(f("u1_nlh.npy"), "/other", L, H, where),
                            "sweep.yaml:9:12: sweep.dataset: /other, but only HDF5 files have datasets, and " +
                                f("u1_nlh.npy") + " is a .npy file");

  TempDir dir;
  auto npy = [](const std::string& header, int version = 1) {
    std::string out = "\x93NUMPY";
    out += static_cast<char>(version);
    out += '\0';
    out += static_cast<char>(header.size());
    out += '\0';
    return out + header;
  };
  const std::string maybe = dir.write("maybe.npy", npy("{'descr': '|u1', 'fortran_order': Maybe, 'shape': (2, 3), }\n"));
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(maybe, "", L, H),
                            maybe + ": malformed .npy header: fortran_order is neither True nor False (header: "
                                    "{'descr': '|u1', 'fortran_order': Maybe, 'shape': (2, 3), })");
  const std::string noshape = dir.write("noshape.npy", npy("{'descr': '|u1', 'fortran_order': False}\n"));
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(noshape, "", L, H),
                            Contains("malformed .npy header: the header needs descr, fortran_order and shape"));
  const std::string v9 = dir.write("v9.npy", npy("{}", 9));
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(v9, "", L, H),
                            v9 + ": .npy format version 9.0 is not supported (1.0 to 3.0 are)");
  const std::string cut = dir.write("cut.npy", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }\n").substr(0, 30));
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(cut, "", L, H), cut + ": truncated .npy header");
}

CATCH_TEST_CASE("file: HDF5 datasets of integers or bools, (N, L, H) or (L, H)", "[masks][file]") {
  check_fixture_masks(read_mask_file(fixture("masks.h5"), "", L, H), "masks.h5");
  check_fixture_masks(read_mask_file(fixture("masks.h5"), "/masks", L, H), "masks.h5");
  // h5py's bools, in a group: rows 0 and 1 of the file are the fixtures' masks 1 and 2.
  const MaskSet bools = read_mask_file(fixture("masks.h5"), "group/bools", L, H);
  CATCH_CHECK(bools.names() == std::vector<std::string>{"baseline", "masks.h5#0", "masks.h5#1"});
  CATCH_CHECK(row(bools, 1) == kM1);
  CATCH_CHECK(row(bools, 2) == kM2);
  const MaskSet lh = read_mask_file(fixture("masks.h5"), "/lh", L, H);
  CATCH_REQUIRE(lh.size() == 2);
  CATCH_CHECK(row(lh, 1) == std::vector<uint8_t>{1, 0, 1, 1, 1, 0});

  // /masks with /mask_names (a results file's layout) keeps the names; other datasets do not.
  const MaskSet named = read_mask_file(fixture("named.h5"), "", L, H);
  CATCH_CHECK(named.names() == std::vector<std::string>{"baseline", "-L0.H0", "-L1.H0-L1.H1"});
  const MaskSet other = read_mask_file(fixture("named.h5"), "/other", L, H);
  CATCH_CHECK(other.names() == std::vector<std::string>{"baseline", "named.h5#0", "named.h5#1"});
  CATCH_CHECK(row(other, 1) == kM2);
  // Fixed-length names (numpy bytes arrays), the longest filling its width, are read whole.
  const MaskSet fixed = read_mask_file(fixture("named_fixed.h5"), "", L, H);
  CATCH_CHECK(fixed.names() == std::vector<std::string>{"baseline", "-L0.H0", "-L1.H0-L1.H1"});
}

CATCH_TEST_CASE("file: HDF5 errors name the dataset", "[masks][file][errors]") {
  const std::string p = fixture("masks.h5");
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(p, "/floats", L, H),
                            p + ": dataset /floats holds float32; expected integers or booleans");
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(p, "/text", L, H),
                            p + ": dataset /text holds strings; expected integers or booleans");
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(p, "/nope", L, H), p + ": no dataset /nope");
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(p, "/nope/deeper", L, H), p + ": no dataset /nope/deeper");
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(p, "/group", L, H), p + ": no dataset /group");
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(p, "/transposed", L, H),
                            p + ": dataset /transposed: masks of shape (1, 3, 2) do not fit the model, which "
                                "has L = 2 layers of H = 3 heads: expected (N, 2, 3) or (2, 3)");
  // The model decides the shape: the same file does not fit 3 x 2.
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(p, "", 3, 2),
                            p + ": dataset /masks: masks of shape (3, 2, 3) do not fit the model, which has "
                                "L = 3 layers of H = 2 heads: expected (N, 3, 2) or (3, 2)");
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(fixture("nope.h5"), "", L, H),
                            "sweep.path: \"" + fixture("nope.h5") + "\" does not exist");
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(fixture(""), "", L, H), Contains("is a folder, not a file"));
}

CATCH_TEST_CASE("file: a pipe, a device or a symlink loop is refused before anything reads it", "[masks][file][errors]") {
  TempDir tmp;
  // Reading a pipe would block until something writes to it, and its bytes could be read only once.
  const std::string fifo = tmp.file("masks.txt");
  CATCH_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(fifo, "", L, H),
                            "sweep.path: \"" + fifo + "\" is not a regular file (a device or a pipe)");
  CATCH_REQUIRE_THROWS_WITH(read_mask_file("/dev/null", "", L, H),
                            "sweep.path: \"/dev/null\" is not a regular file (a device or a pipe)");
  const std::string loop = tmp.file("loop.txt");
  fs::create_symlink(loop, loop);
  CATCH_REQUIRE_THROWS_WITH(read_mask_file(loop, "", L, H),
                            "sweep.path: \"" + loop + "\" cannot be accessed (Too many levels of symbolic links)");
}

CATCH_TEST_CASE("file: another run's results file gives back its masks and names", "[masks][file]") {
  TempDir dir;
  const MaskSet sweep = hs::masks::make_masks("single-head", L, H);
  const hs::io::ResultsHeader header = hs::test::tiny_results_header("sweep:\n  strategy: single-head\n");
  const std::string path = dir.file("run.h5");
  {
    auto w = hs::io::ResultsWriter::create(path, header, sweep.data(), sweep.names(), {0, 1}, {0, 1}, false);
    w.finish();
  }
  hs::io::SweepOptions o;
  o.strategies = {"file"};
  o.path = path;
  o.dataset = "/masks";
  const MaskSet back = hs::masks::make_masks(o, L, H);
  CATCH_CHECK(back.names() == sweep.names());
  CATCH_CHECK(back.data() == sweep.data());
  // In a union with the strategy that made it, nothing is new.
  o.strategies = {"single-head", "file"};
  CATCH_CHECK(hs::masks::make_masks(o, L, H).size() == sweep.size());
}

CATCH_TEST_CASE("file: a truncated HDF5 file is reported as damaged, not as locked", "[masks][file]") {
  TempDir dir;
  const MaskSet sweep = hs::masks::make_masks("single-head", L, H);
  const std::string whole = dir.file("run.h5");
  {
    auto w = hs::io::ResultsWriter::create(whole, hs::test::tiny_results_header("sweep: {}\n"), sweep.data(),
                                           sweep.names(), {0, 1}, {0, 1}, false);
    w.finish();
  }
  std::ifstream in(whole, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Half the file: the signature is there, the superblock's end-of-file address is past the end.
  const std::string cut = dir.write("cut.h5", bytes.substr(0, bytes.size() / 2));
  try {
    read_mask_file(cut, "/masks", L, H);
    CATCH_FAIL("a truncated file was read");
  } catch (const hs::InputError& e) {
    const std::string what = e.what();
    CATCH_INFO(what);
    CATCH_CHECK(what.rfind(cut + ": cannot open: ", 0) == 0);
    CATCH_CHECK(what.find("still writing") == std::string::npos);
  }
}

CATCH_TEST_CASE("file: an HDF5 dataset declared too large to read is refused, not allocated", "[masks][file][errors]") {
  // HDF5 stores a chunked dataset that was never written in a few bytes, whatever shape it declares.
  TempDir dir;
  const std::string p = dir.file("huge.h5");
  const std::string cmd = fmt::format(
      "/usr/bin/python3 -c \"import h5py; f = h5py.File('{}', 'w'); "
      "f.create_dataset('masks', shape=(2**61, 2, 3), chunks=(1, 2, 3), dtype='u1', fillvalue=1); "
      "f.create_dataset('big', shape=(2**40, 2, 3), chunks=(1, 2, 3), dtype='u1', fillvalue=1)\"",
      p);
  CATCH_REQUIRE(std::system(cmd.c_str()) == 0);
  // 2^61 · 6 wraps to 0 in 64 bits: before the check that read an empty array as N masks.
  CATCH_CHECK_THROWS_WITH(read_mask_file(p, "/masks", L, H),
                          p + ": dataset /masks: shape (2305843009213693952, 2, 3) holds more than 2^31 values; not "
                              "a mask file headsweep can read");
  CATCH_CHECK_THROWS_AS(read_mask_file(p, "/big", L, H), hs::InputError);
}
