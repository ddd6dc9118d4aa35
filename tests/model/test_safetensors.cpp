#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include "checkpoint_fixtures.h"
#include "model/safetensors.h"
#include "test_env.h"
#include "util/error.h"
#include "util/sha256.h"

using hs::InputError;
using hs::model::DType;
using hs::model::SafetensorsFile;
using hs::model::TensorView;
using hs::test::build_safetensors;
using hs::test::bytes_of;
using hs::test::FixtureTensor;
using hs::test::raw_safetensors;
using hs::test::TempDir;
using hs::test::u64_le;
using hs::test::write_file;

namespace {

// Element i of an F32 view, read without assuming alignment.
float f32_at(const TensorView& v, size_t i) {
  float f;
  std::memcpy(&f, static_cast<const char*>(v.data) + 4 * i, 4);
  return f;
}

std::string open_error(const std::string& path) {
  try {
    SafetensorsFile::open(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

CATCH_TEST_CASE("dtype table", "[safetensors]") {
  CATCH_REQUIRE(hs::model::dtype_size(DType::F32) == 4);
  CATCH_REQUIRE(hs::model::dtype_size(DType::F16) == 2);
  CATCH_REQUIRE(hs::model::dtype_size(DType::BF16) == 2);
  CATCH_REQUIRE(hs::model::dtype_size(DType::F64) == 8);
  CATCH_REQUIRE(hs::model::dtype_size(DType::I64) == 8);
  CATCH_REQUIRE(hs::model::dtype_size(DType::I32) == 4);
  CATCH_REQUIRE(hs::model::dtype_size(DType::I16) == 2);
  CATCH_REQUIRE(hs::model::dtype_size(DType::I8) == 1);
  CATCH_REQUIRE(hs::model::dtype_size(DType::U8) == 1);
  CATCH_REQUIRE(hs::model::dtype_size(DType::Bool) == 1);
  CATCH_REQUIRE(std::string(hs::model::dtype_name(DType::Bool)) == "BOOL");
  CATCH_REQUIRE(std::string(hs::model::dtype_name(DType::BF16)) == "BF16");
}

CATCH_TEST_CASE("real checkpoint: header, shapes and values", "[safetensors][checkpoint]") {
  HS_REQUIRE_MODEL(dir);
  const std::string path = dir + "/model.safetensors";
  const SafetensorsFile f = SafetensorsFile::open(path);
  CATCH_REQUIRE(f.path() == path);

  // The header has 105 entries: 104 tensors plus "__metadata__".
  const auto names = f.names();
  CATCH_REQUIRE(names.size() == 104);
  CATCH_REQUIRE(std::is_sorted(names.begin(), names.end()));
  CATCH_REQUIRE(names.front() == "embeddings.LayerNorm.bias");
  CATCH_REQUIRE(f.metadata().size() == 1);
  CATCH_REQUIRE(f.metadata().at("format") == "pt");
  CATCH_REQUIRE_FALSE(f.contains("__metadata__"));

  const TensorView& word = f.get("embeddings.word_embeddings.weight");
  CATCH_REQUIRE(word.dtype == DType::F32);
  CATCH_REQUIRE(word.shape == std::vector<int64_t>{30522, 384});
  CATCH_REQUIRE(word.numel() == 30522LL * 384);
  CATCH_REQUIRE(word.nbytes == 30522ULL * 384 * 4);
  CATCH_REQUIRE(f.get("encoder.layer.0.attention.self.query.weight").shape == std::vector<int64_t>{384, 384});
  CATCH_REQUIRE(f.get("encoder.layer.5.intermediate.dense.weight").shape == std::vector<int64_t>{1536, 384});
  CATCH_REQUIRE(f.get("encoder.layer.5.output.dense.weight").shape == std::vector<int64_t>{384, 1536});
  CATCH_REQUIRE(f.get("pooler.dense.weight").shape == std::vector<int64_t>{384, 384});
  CATCH_REQUIRE(f.contains("encoder.layer.5.output.LayerNorm.weight"));
  CATCH_REQUIRE_FALSE(f.contains("encoder.layer.6.output.LayerNorm.weight"));

  // Expected values were read with /usr/bin/python3 + numpy straight from the file (struct-unpacked
  // header, np.frombuffer(..., '<f4') on the data slice), printed with 9 significant digits so that
  // each literal round-trips to the exact float; hence exact comparisons.
  CATCH_REQUIRE(f32_at(word, 0) == -0.0199890137f);                // [0, 0]
  CATCH_REQUIRE(f32_at(word, 101 * 384 + 0) == -0.0176193975f);    // [101, 0]
  CATCH_REQUIRE(f32_at(word, 101 * 384 + 383) == -0.0616773665f);  // [101, 383]
  CATCH_REQUIRE(f32_at(word, 30521LL * 384 + 5) == 0.0527525842f); // [30521, 5]
  const TensorView& q = f.get("encoder.layer.0.attention.self.query.weight");
  CATCH_REQUIRE(f32_at(q, 0) == -0.148619622f);                    // [0, 0]
  CATCH_REQUIRE(f32_at(q, 383 * 384 + 383) == -0.0852389336f);     // [383, 383]
  CATCH_REQUIRE(f32_at(q, 17 * 384 + 42) == -0.0171605833f);       // [17, 42]
  const auto ln = hs::model::to_float32(f.get("encoder.layer.5.output.LayerNorm.weight"));
  CATCH_REQUIRE(ln.size() == 384);
  CATCH_REQUIRE(ln[0] == 0.645970345f);

  const TensorView& pos = f.get("embeddings.position_ids");
  CATCH_REQUIRE(pos.dtype == DType::I64);
  CATCH_REQUIRE(pos.shape == std::vector<int64_t>{1, 512});
  std::vector<int64_t> ids(512);
  std::memcpy(ids.data(), pos.data, pos.nbytes);
  for (int64_t i = 0; i < 512; ++i) CATCH_REQUIRE(ids[i] == i);
  CATCH_REQUIRE_THROWS_WITH(hs::model::to_float32(pos),
                            "tensor embeddings.position_ids: dtype I64 is not a float dtype (expected F32, F16, BF16 or F64)");

  CATCH_REQUIRE_THROWS_WITH(f.get("nope"), path + ": tensor nope not found");
}

CATCH_TEST_CASE("views survive moving the file", "[safetensors]") {
  TempDir tmp;
  const std::string p = tmp.file("a.safetensors");
  write_file(p, build_safetensors({{"w", "F32", {3}, bytes_of(std::vector<float>{1.5f, -2.f, 4.f})}}));
  SafetensorsFile a = SafetensorsFile::open(p);
  const TensorView* before = &a.get("w");
  SafetensorsFile b = std::move(a);
  CATCH_REQUIRE(&b.get("w") == before);
  CATCH_REQUIRE(hs::model::to_float32(b.get("w")) == std::vector<float>{1.5f, -2.f, 4.f});
  static_assert(!std::is_copy_constructible_v<SafetensorsFile>);
}

CATCH_TEST_CASE("all dtypes, scalars and empty tensors", "[safetensors]") {
  TempDir tmp;
  const std::string p = tmp.file("dtypes.safetensors");
  write_file(p, build_safetensors(
                    {
                        {"f64", "F64", {2}, bytes_of(std::vector<double>{0.1, -1e300})},
                        {"i32", "I32", {2, 1}, bytes_of(std::vector<int32_t>{-7, 9})},
                        {"i16", "I16", {1}, bytes_of(std::vector<int16_t>{-3})},
                        {"i8", "I8", {}, std::string(1, '\x80')},
                        {"u8", "U8", {3}, std::string("\x01\x02\xff", 3)},
                        {"mask", "BOOL", {2}, std::string("\x01\x00", 2)},
                        {"empty", "F32", {0, 384}, ""},
                    },
                    {{"format", "pt"}, {"note", "fixture"}}));
  const SafetensorsFile f = SafetensorsFile::open(p);
  CATCH_REQUIRE(f.names() == std::vector<std::string>{"empty", "f64", "i16", "i32", "i8", "mask", "u8"});
  CATCH_REQUIRE(f.metadata().at("note") == "fixture");
  CATCH_REQUIRE(f.get("i32").dtype == DType::I32);
  CATCH_REQUIRE(f.get("i8").shape.empty());
  CATCH_REQUIRE(f.get("i8").numel() == 1);
  CATCH_REQUIRE(f.get("mask").dtype == DType::Bool);
  CATCH_REQUIRE(f.get("u8").nbytes == 3);
  CATCH_REQUIRE(f.get("empty").numel() == 0);
  CATCH_REQUIRE(f.get("empty").nbytes == 0);
  CATCH_REQUIRE(hs::model::to_float32(f.get("empty")).empty());
  const auto d = hs::model::to_float32(f.get("f64"));
  CATCH_REQUIRE(d[0] == 0.1f);
  CATCH_REQUIRE(std::isinf(d[1]));
  CATCH_REQUIRE(d[1] < 0);
}

CATCH_TEST_CASE("F16 and BF16 convert to float32 bit-exactly", "[safetensors]") {
  // Hand-worked half patterns: sign | 5-bit exponent (bias 15) | 10-bit mantissa.
  const std::vector<uint16_t> f16 = {
      0x3C00,  // 1.0
      0xC000,  // -2.0
      0x3555,  // 2^-2 * (1 + 341/1024) = 0.333251953125
      0x7BFF,  // largest finite: 2^15 * (1 + 1023/1024) = 65504
      0x0400,  // smallest normal: 2^-14
      0x0001,  // smallest subnormal: 2^-24
      0x83FF,  // largest subnormal, negative: -1023 * 2^-24
      0x8000,  // -0.0
      0x7C00,  // +inf
      0xFC00,  // -inf
      0x7E00,  // quiet NaN
  };
  // bfloat16 is the top half of a float32: sign | 8-bit exponent (bias 127) | 7-bit mantissa.
  const std::vector<uint16_t> bf16 = {
      0x3F80,  // 1.0
      0xC040,  // -3.0  (2^1 * 1.5)
      0x3EAB,  // 2^-2 * (1 + 43/128) = 0.333984375
      0x7F7F,  // largest finite: (2 - 2^-7) * 2^127
      0x0001,  // subnormal: 2^-133
      0xFF80,  // -inf
  };
  TempDir tmp;
  const std::string p = tmp.file("half.safetensors");
  write_file(p, build_safetensors({{"h", "F16", {11}, bytes_of(f16)}, {"b", "BF16", {2, 3}, bytes_of(bf16)}}));
  const SafetensorsFile f = SafetensorsFile::open(p);

  const auto h = hs::model::to_float32(f.get("h"));
  CATCH_REQUIRE(h.size() == 11);
  CATCH_REQUIRE(h[0] == 1.0f);
  CATCH_REQUIRE(h[1] == -2.0f);
  CATCH_REQUIRE(h[2] == 0.333251953125f);
  CATCH_REQUIRE(h[3] == 65504.0f);
  CATCH_REQUIRE(h[4] == std::ldexp(1.0f, -14));
  CATCH_REQUIRE(h[5] == std::ldexp(1.0f, -24));
  CATCH_REQUIRE(h[6] == -1023.0f * std::ldexp(1.0f, -24));
  CATCH_REQUIRE(h[7] == 0.0f);
  CATCH_REQUIRE(std::signbit(h[7]));
  CATCH_REQUIRE(h[8] == std::numeric_limits<float>::infinity());
  CATCH_REQUIRE(h[9] == -std::numeric_limits<float>::infinity());
  CATCH_REQUIRE(std::isnan(h[10]));

  const auto b = hs::model::to_float32(f.get("b"));
  CATCH_REQUIRE(b.size() == 6);
  CATCH_REQUIRE(b[0] == 1.0f);
  CATCH_REQUIRE(b[1] == -3.0f);
  CATCH_REQUIRE(b[2] == 0.333984375f);
  CATCH_REQUIRE(b[3] == (2.0f - std::ldexp(1.0f, -7)) * std::ldexp(1.0f, 127));
  CATCH_REQUIRE(b[4] == std::ldexp(1.0f, -133));
  CATCH_REQUIRE(b[5] == -std::numeric_limits<float>::infinity());
}

CATCH_TEST_CASE("corrupt files fail with one-line messages", "[safetensors]") {
  TempDir tmp;
  const std::string p = tmp.file("bad.safetensors");
  const std::string eight(8, '\0');  // one F32 pair's worth of data

  CATCH_SECTION("missing file") {
    CATCH_REQUIRE(open_error(p) == p + ": cannot open safetensors file (No such file or directory)");
  }
  CATCH_SECTION("shorter than the length prefix") {
    write_file(p, std::string("\x10\x00\x00\x00\x00", 5));
    CATCH_REQUIRE(open_error(p) == p + ": file is 5 bytes, too short for the 8-byte safetensors header length");
  }
  CATCH_SECTION("header length past end of file") {
    write_file(p, u64_le(100) + "{}        ");
    CATCH_REQUIRE(open_error(p) ==
                  p + ": header length 100 runs past the end of the file (18 bytes, header starts at byte 8)");
  }
  CATCH_SECTION("header is not JSON") {
    write_file(p, raw_safetensors(R"({"w": {"dtype": F32}})", ""));
    CATCH_REQUIRE(open_error(p) ==
                  p + ": header is not valid JSON (header byte 17, file offset 24): parse error at line 1, column "
                      "17: syntax error while parsing value - invalid literal; last read: '\"dtype\": F'");
  }
  CATCH_SECTION("header is not an object") {
    write_file(p, raw_safetensors("[1, 2]", ""));
    CATCH_REQUIRE(open_error(p) == p + ": header is not a JSON object");
  }
  CATCH_SECTION("duplicate tensor name") {
    write_file(p, raw_safetensors(R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},)"
                                  R"( "w": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})",
                                  "ab"));
    CATCH_REQUIRE(open_error(p) == p + ": header lists \"w\" twice");
  }
  CATCH_SECTION("entry missing a key") {
    write_file(p, raw_safetensors(R"({"w": {"dtype": "F32", "data_offsets": [0, 8]}})", eight));
    CATCH_REQUIRE(open_error(p) == p + ": tensor w: missing \"shape\"");
  }
  CATCH_SECTION("entry of the wrong JSON type") {
    write_file(p, raw_safetensors(R"({"w": [0, 8]})", eight));
    CATCH_REQUIRE(open_error(p) == p + ": tensor w: entry is not a JSON object");
  }
  CATCH_SECTION("dtype not a string") {
    write_file(p, raw_safetensors(R"({"w": {"dtype": 4, "shape": [2], "data_offsets": [0, 8]}})", eight));
    CATCH_REQUIRE(open_error(p) == p + ": tensor w: \"dtype\" is not a string");
  }
  CATCH_SECTION("shape not an array") {
    write_file(p, raw_safetensors(R"({"w": {"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}})", eight));
    CATCH_REQUIRE(open_error(p) == p + ": tensor w: \"shape\" is not an array");
  }
  CATCH_SECTION("negative dimension") {
    write_file(p, raw_safetensors(R"({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", eight));
    CATCH_REQUIRE(open_error(p) == p + ": tensor w: \"shape\" must hold non-negative integers, got [-2]");
  }
  CATCH_SECTION("data_offsets malformed") {
    write_file(p, raw_safetensors(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}})", eight));
    CATCH_REQUIRE(open_error(p) ==
                  p + ": tensor w: \"data_offsets\" must be two non-negative integers [begin, end], got [0]");
  }
  CATCH_SECTION("unknown dtype") {
    write_file(p, raw_safetensors(R"({"w": {"dtype": "F8_E4M3", "shape": [8], "data_offsets": [0, 8]}})", eight));
    CATCH_REQUIRE(open_error(p) == p + ": tensor w: unknown dtype \"F8_E4M3\" (supported: F32, F16, BF16, F64, I64, "
                                       "I32, I16, I8, U8, BOOL)");
  }
  CATCH_SECTION("begin after end") {
    write_file(p, raw_safetensors(R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}})", eight));
    CATCH_REQUIRE(open_error(p) == p + ": tensor w: data_offsets [8, 0] has begin > end");
  }
  CATCH_SECTION("offsets outside the data buffer") {
    const std::string header = R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})";
    write_file(p, raw_safetensors(header, eight));
    CATCH_REQUIRE(open_error(p) == p + ": tensor w: data_offsets [0, 16] run past the data buffer (8 bytes, from "
                                       "file byte " + std::to_string(8 + header.size()) + ")");
  }
  CATCH_SECTION("byte size does not match shape") {
    write_file(p, raw_safetensors(R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", eight));
    CATCH_REQUIRE(open_error(p) == p + ": tensor w: data_offsets [0, 8] hold 8 bytes but F32 [3] needs 12");
  }
  CATCH_SECTION("shape whose byte size overflows") {
    write_file(p, raw_safetensors(
                      R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})", ""));
    CATCH_REQUIRE(open_error(p) == p + ": tensor w: data_offsets [0, 0] hold 0 bytes but F32 [4294967296, "
                                       "4294967296] needs more than 2^64");
  }
  CATCH_SECTION("overlapping tensors") {
    write_file(p, raw_safetensors(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                                  R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                                  eight));
    CATCH_REQUIRE(open_error(p) == p + ": tensors a [0, 8] and b [4, 8] overlap");
  }
  CATCH_SECTION("metadata value not a string") {
    write_file(p, raw_safetensors(R"({"__metadata__": {"format": 1}})", ""));
    CATCH_REQUIRE(open_error(p) == p + ": \"__metadata__\" value \"format\" is not a string");
  }
}

CATCH_TEST_CASE("sha256_file", "[safetensors]") {
  TempDir tmp;
  write_file(tmp.file("abc"), "abc");
  // FIPS 180-2 test vector.
  CATCH_REQUIRE(hs::model::sha256_file(tmp.file("abc")) ==
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  write_file(tmp.file("empty"), "");
  CATCH_REQUIRE(hs::model::sha256_file(tmp.file("empty")) ==
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CATCH_REQUIRE_THROWS_AS(hs::model::sha256_file(tmp.file("missing")), InputError);
}

CATCH_TEST_CASE("Sha256 fed in pieces", "[safetensors]") {
  // FIPS 180-2's two-block vector, fed whole, byte by byte and in uneven pieces: the digest of the
  // identities (inputs_sha256 hashes each sequence's ids as it goes) must not depend on the split.
  const std::string text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  const std::string want = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  CATCH_REQUIRE(hs::sha256_hex(text) == want);
  hs::Sha256 bytes;
  for (char c : text) bytes.update(&c, 1);
  CATCH_REQUIRE(bytes.hex() == want);
  hs::Sha256 pieces;
  pieces.update(text.substr(0, 7));
  pieces.update(text.data() + 7, 0);
  pieces.update(text.substr(7));
  CATCH_REQUIRE(pieces.hex() == want);
  CATCH_REQUIRE_THROWS_AS(pieces.hex(), std::logic_error);
}

CATCH_TEST_CASE("sha256_file on the real checkpoint", "[safetensors][checkpoint]") {
  HS_REQUIRE_MODEL(dir);
  // From `sha256sum model.safetensors` (hashlib agrees); the file spans many 1 MiB read chunks.
  CATCH_REQUIRE(hs::model::sha256_file(dir + "/model.safetensors") ==
                "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db");
}
