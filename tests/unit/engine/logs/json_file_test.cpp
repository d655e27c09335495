// SPDX-License-Identifier: Apache-2.0
#include "engine/logs/json_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::engine::logs {
namespace {

using testing::TempDir;

std::vector<std::string> lines_of(const std::string& path) {
  auto text = base::read_file(path);
  EXPECT_TRUE(text.has_value()) << path;
  std::vector<std::string> out;
  if (!text) {
    return out;
  }
  auto parts = base::split(*text, '\n');
  for (auto& p : parts) {
    if (!p.empty()) {
      out.push_back(p);
    }
  }
  return out;
}

std::vector<Entry> read_entries(const std::string& path, ReadOptions options = {}) {
  std::vector<Entry> out;
  auto r = read_all(path, options, [&](const Entry& e) {
    out.push_back(e);
    return true;
  });
  EXPECT_TRUE(r.has_value()) << r.error().to_string();
  return out;
}

TEST(JsonFileEncodeTest, MatchesDockersEscaping) {
  // Bytes as Docker's ffjsonWriteJSONBytesAsString writes them.
  std::string out;
  append_json_string(out, std::string_view("a<b>&\"\\\t\x01\r\n\x7f", 12));
  EXPECT_EQ(out, "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\u0009\\u0001\\r\\n\x7f\"");
}

TEST(JsonFileEncodeTest, InvalidUtf8BecomesReplacementPerByte) {
  std::string out;
  // A lone continuation byte, a truncated 3-byte sequence, an overlong '/', a surrogate.
  append_json_string(out, "x\x80y\xe2\x82z\xc0\xaf\xed\xa0\x80");
  EXPECT_EQ(out, "\"x\\ufffdy\\ufffd\\ufffdz\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

TEST(JsonFileEncodeTest, ValidUtf8PassesAndLineSeparatorsAreEscaped) {
  std::string out;
  append_json_string(out, "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3 \xe2\x80\xa8\xe2\x80\xa9");
  EXPECT_EQ(out, "\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3 \\u2028\\u2029\"");
}

TEST(JsonFileEncodeTest, RoundTripsThroughNlohmann) {
  std::string all;
  for (int c = 0; c < 256; ++c) {
    all += static_cast<char>(c);
  }
  std::string line = encode_entry("stderr", all, "2026-11-29T18:25:56.680905338Z");
  ASSERT_EQ(line.back(), '\n');
  auto j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << line;
  std::string log = j["log"].get<std::string>();
  // ASCII comes back byte for byte; each byte >= 0x80 (none valid alone) as U+FFFD.
  EXPECT_EQ(log.substr(0, 128), all.substr(0, 128));
  std::string replacement;
  for (int i = 0; i < 128; ++i) {
    replacement += "\xef\xbf\xbd";
  }
  EXPECT_EQ(log.substr(128), replacement);
  EXPECT_EQ(j["stream"], "stderr");
  EXPECT_EQ(line.rfind("{\"log\":", 0), 0u);
  EXPECT_NE(line.find(",\"stream\":\"stderr\",\"time\":\"2026-11-29T18:25:56.680905338Z\"}\n"),
            std::string::npos);
}

TEST(JsonFileTimeTest, FormatsLikeGoRfc3339Nano) {
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_time(1'795'976'756'680'905'338), "2026-11-29T18:25:56.680905338Z");
  EXPECT_EQ(format_time(1'795'976'756'500'000'000), "2026-11-29T18:25:56.5Z");
  EXPECT_EQ(format_time(1'795'976'756'000'000'010), "2026-11-29T18:25:56.00000001Z");
}

TEST(JsonFileTimeTest, ParsesWhatItFormatsAndOffsets) {
  for (int64_t ns :
       {int64_t{0}, int64_t{1'795'976'756'680'905'338}, int64_t{951'782'400'000'000'001}}) {
    auto back = parse_time_nanos(format_time(ns));
    ASSERT_TRUE(back.has_value()) << format_time(ns);
    EXPECT_EQ(*back, ns);
  }
  EXPECT_EQ(parse_time_nanos("2026-11-29T19:25:56.5+01:00"),
            parse_time_nanos("2026-11-29T18:25:56.5Z"));
  EXPECT_FALSE(parse_time_nanos("2026-11-29 18:25:56Z").has_value());
  EXPECT_FALSE(parse_time_nanos("2026-11-29T18:25:56").has_value());
  EXPECT_FALSE(parse_time_nanos("2026-13-29T18:25:56Z").has_value());
  EXPECT_FALSE(parse_time_nanos("2026-11-29T18:25:56.Z").has_value());
  EXPECT_FALSE(parse_time_nanos("garbage").has_value());
}

TEST(JsonFileWriterTest, WritesOneEntryPerLineAndBuffersPartials) {
  TempDir tmp;
  std::string path = tmp.path() + "/c-json.log";
  auto w = JsonFileWriter::open(path, {});
  ASSERT_TRUE(w.has_value()) << w.error().to_string();
  ASSERT_TRUE(w->write("stdout", "out1\nout2\nno-").has_value());
  ASSERT_TRUE(w->write("stderr", "err1\n").has_value());
  ASSERT_TRUE(w->write("stdout", "newline").has_value());
  EXPECT_EQ(lines_of(path).size(), 3u);  // the partial line waits
  ASSERT_TRUE(w->flush().has_value());
  auto entries = read_entries(path);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].log, "out1\n");
  EXPECT_EQ(entries[1].log, "out2\n");
  EXPECT_EQ(entries[2].log, "err1\n");
  EXPECT_EQ(entries[2].stream, "stderr");
  EXPECT_EQ(entries[3].log, "no-newline");  // Docker's last line without "\n"
  EXPECT_EQ(entries[3].stream, "stdout");
  for (const auto& e : entries) {
    EXPECT_EQ(e.time.back(), 'Z');
    EXPECT_GT(e.time_unix, 1'700'000'000);
  }
  // The file is Docker's shape, field for field.
  auto first = lines_of(path)[0];
  EXPECT_EQ(first.rfind("{\"log\":\"out1\\n\",\"stream\":\"stdout\",\"time\":\"", 0), 0u) << first;
}

TEST(JsonFileWriterTest, EmptyLinesAreEntries) {
  TempDir tmp;
  std::string path = tmp.path() + "/log";
  auto w = JsonFileWriter::open(path, {});
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE(w->write("stdout", "\n\nx\n").has_value());
  auto entries = read_entries(path);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].log, "\n");
  EXPECT_EQ(entries[2].log, "x\n");
}

TEST(JsonFileWriterTest, SplitsLongLinesAt16KiB) {
  TempDir tmp;
  std::string path = tmp.path() + "/log";
  auto w = JsonFileWriter::open(path, {});
  ASSERT_TRUE(w.has_value());
  std::string big(40000, 'a');
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>('a' + i % 26);
  }
  // Arrives in pieces, as a pipe delivers it.
  ASSERT_TRUE(w->write("stdout", std::string_view(big).substr(0, 1000)).has_value());
  ASSERT_TRUE(w->write("stdout", std::string_view(big).substr(1000, 20000)).has_value());
  EXPECT_EQ(lines_of(path).size(), 1u);  // 21000 buffered: one 16 KiB piece out
  ASSERT_TRUE(w->write("stdout", std::string_view(big).substr(21000)).has_value());
  ASSERT_TRUE(w->write("stdout", "\n").has_value());
  // A line of exactly 16 KiB is one entry.
  ASSERT_TRUE(w->write("stdout", std::string(16384, 'z') + "\n").has_value());
  auto entries = read_entries(path);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].log.size(), 16384u);
  EXPECT_EQ(entries[1].log.size(), 16384u);
  EXPECT_EQ(entries[2].log.size(), 40000u - 2 * 16384u + 1);
  EXPECT_EQ(entries[2].log.back(), '\n');
  EXPECT_EQ(entries[0].log + entries[1].log + entries[2].log, big + "\n");
  EXPECT_EQ(entries[3].log, std::string(16384, 'z') + "\n");
}

TEST(JsonFileWriterTest, RejectsBadOptionsAndStreams) {
  TempDir tmp;
  EXPECT_FALSE(JsonFileWriter::open(tmp.path() + "/l", {0, 0}).has_value());
  EXPECT_FALSE(JsonFileWriter::open(tmp.path() + "/l", {-1, 1}).has_value());
  EXPECT_FALSE(JsonFileWriter::open(tmp.path() + "/no/such/dir/l", {}).has_value());
  auto w = JsonFileWriter::open(tmp.path() + "/l", {});
  ASSERT_TRUE(w.has_value());
  EXPECT_FALSE(w->write("stdin", "x\n").has_value());
}

TEST(JsonFileWriterTest, AppendsToAnExistingFile) {
  TempDir tmp;
  std::string path = tmp.path() + "/log";
  {
    auto w = JsonFileWriter::open(path, {});
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE(w->write("stdout", "one\n").has_value());
  }
  auto w = JsonFileWriter::open(path, {});
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE(w->write("stdout", "two\n").has_value());
  auto entries = read_entries(path);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].log, "two\n");
}

TEST(JsonFileRotationTest, KeepsMaxFilesAndReadsOldestFirst) {
  TempDir tmp;
  std::string path = tmp.path() + "/log";
  // Each entry is ~70 bytes: a 200-byte file holds 3 entries before the next one rotates.
  auto w = JsonFileWriter::open(path, {200, 3});
  ASSERT_TRUE(w.has_value());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(w->write("stdout", fmt::format("line {:02}\n", i)).has_value());
  }
  EXPECT_TRUE(base::path_exists(path + ".1"));
  EXPECT_TRUE(base::path_exists(path + ".2"));
  EXPECT_FALSE(base::path_exists(path + ".3"));
  for (const auto& f : {path, path + ".1", path + ".2"}) {
    auto text = base::read_file(f);
    ASSERT_TRUE(text.has_value());
    // Docker's rule: rotate once the file reached max-size, so at most one entry over.
    EXPECT_LT(text->size(), 200u + 80u) << f;
  }
  auto entries = read_entries(path);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back().log, "line 19\n");
  // Contiguous and in order: the oldest kept ones first, nothing after 19.
  int first = std::stoi(entries.front().log.substr(5));
  EXPECT_GT(first, 0);  // the oldest were dropped
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].log, fmt::format("line {:02}\n", first + static_cast<int>(i)));
  }
  EXPECT_EQ(lines_of(path).size() + lines_of(path + ".1").size() + lines_of(path + ".2").size(),
            entries.size());
}

TEST(JsonFileRotationTest, MaxFilesOneTruncates) {
  TempDir tmp;
  std::string path = tmp.path() + "/log";
  auto w = JsonFileWriter::open(path, {100, 1});
  ASSERT_TRUE(w.has_value());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(w->write("stdout", fmt::format("line {}\n", i)).has_value());
  }
  EXPECT_FALSE(base::path_exists(path + ".1"));
  auto entries = read_entries(path);
  ASSERT_FALSE(entries.empty());
  EXPECT_LT(entries.size(), 10u);
  EXPECT_EQ(entries.back().log, "line 9\n");
}

TEST(JsonFileReaderTest, TailSinceUntil) {
  TempDir tmp;
  std::string path = tmp.path() + "/log";
  std::string text;
  // Entries one second apart: t = 1000 .. 1009.
  for (int i = 0; i < 10; ++i) {
    text += encode_entry(i % 2 ? "stderr" : "stdout", fmt::format("l{}\n", i),
                         format_time((1000 + i) * int64_t{1'000'000'000} + 5));
  }
  ASSERT_TRUE(base::write_file_atomic(path, text).has_value());
  auto logs = [](const std::vector<Entry>& es) {
    std::string s;
    for (const auto& e : es) {
      s += e.log;
    }
    return s;
  };
  EXPECT_EQ(read_entries(path).size(), 10u);
  ReadOptions o;
  o.tail = 3;
  EXPECT_EQ(logs(read_entries(path, o)), "l7\nl8\nl9\n");
  o.tail = 0;
  EXPECT_TRUE(read_entries(path, o).empty());
  o.tail = 100;
  EXPECT_EQ(read_entries(path, o).size(), 10u);
  o = {};
  o.since = 1005;
  EXPECT_EQ(logs(read_entries(path, o)), "l5\nl6\nl7\nl8\nl9\n");
  o.until = 1007;  // l7 is at 1007.000000005: after the bound
  EXPECT_EQ(logs(read_entries(path, o)), "l5\nl6\n");
  o.tail = 1;
  EXPECT_EQ(logs(read_entries(path, o)), "l6\n");
  o = {};
  o.since_nano = 1003 * int64_t{1'000'000'000} + 5;  // inclusive
  o.until_nano = 1004 * int64_t{1'000'000'000} + 5;  // inclusive
  EXPECT_EQ(logs(read_entries(path, o)), "l3\nl4\n");
  // The sink stops early.
  int n = 0;
  ASSERT_TRUE(read_all(path, {}, [&](const Entry&) { return ++n < 2; }).has_value());
  EXPECT_EQ(n, 2);
}

TEST(JsonFileReaderTest, SkipsMalformedAndHoldsPartialLastLine) {
  TempDir tmp;
  std::string path = tmp.path() + "/log";
  std::string good = encode_entry("stdout", "a\n", "2026-11-29T18:25:56Z");
  std::string text = good + "not json\n{\"log\":\"x\"}\n" + good;
  std::string partial = good.substr(0, good.size() / 2);
  ASSERT_TRUE(base::write_file_atomic(path, text + partial).has_value());
  std::vector<Entry> got;
  auto off = read_all(path, {}, [&](const Entry& e) {
    got.push_back(e);
    return true;
  });
  ASSERT_TRUE(off.has_value());
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(*off, static_cast<int64_t>(text.size()));
  // The writer completes the line; follow picks it up from the offset.
  ASSERT_TRUE(base::write_file_atomic(
                  path, text + good + encode_entry("stderr", "b\n", "2026-11-29T18:25:57Z"))
                  .has_value());
  got.clear();
  auto next = read_from(path, *off, [&](const Entry& e) {
    got.push_back(e);
    return true;
  });
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].log, "b\n");
  EXPECT_EQ(got[1].stream, "stderr");
  EXPECT_EQ(got[1].time_unix, got[0].time_unix + 1);
  auto size = base::read_file(path)->size();
  EXPECT_EQ(*next, static_cast<int64_t>(size));
  // Nothing new: same offset.
  got.clear();
  auto again = read_from(path, *next, [&](const Entry& e) {
    got.push_back(e);
    return true;
  });
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *next);
  EXPECT_TRUE(got.empty());
}

TEST(JsonFileReaderTest, ReadFromAfterRotationStartsOver) {
  TempDir tmp;
  std::string path = tmp.path() + "/log";
  ASSERT_TRUE(base::write_file_atomic(path, encode_entry("stdout", "new\n", "2026-11-29T18:25:57Z"))
                  .has_value());
  std::vector<std::string> got;
  auto off = read_from(path, 100000, [&](const Entry& e) {
    got.push_back(e.log);
    return true;
  });
  ASSERT_TRUE(off.has_value());
  EXPECT_EQ(got, std::vector<std::string>{"new\n"});
  // A missing log (driver none, or nothing written yet) reads as empty.
  auto none = read_from(tmp.path() + "/missing", 0, [](const Entry&) { return true; });
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(*none, 0);
  EXPECT_TRUE(read_entries(tmp.path() + "/missing").empty());
}

}  // namespace
}  // namespace mydocker::engine::logs
