// SPDX-License-Identifier: Apache-2.0
// cmd/mydocker/progress.h: docker's jsonmessage rendering, byte for byte.
#include "cmd/mydocker/progress.h"

#include <gtest/gtest.h>

namespace mydocker::cli {
namespace {

using nlohmann::json;

std::string render_all(ProgressRenderer& r, const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    out += r.render(json::parse(l));
  }
  return out;
}

const std::vector<std::string> kPull = {
    R"({"status":"Pulling from test/app","id":"v1"})",
    R"({"status":"Pulling fs layer","progressDetail":{},"id":"aaa"})",
    R"({"status":"Pulling fs layer","progressDetail":{},"id":"bbb"})",
    R"({"status":"Downloading","progressDetail":{"current":500000,"total":1000000},"progress":"[==>  ]","id":"aaa"})",
    R"({"status":"Download complete","progressDetail":{},"id":"bbb"})",
    R"({"status":"Pull complete","progressDetail":{},"id":"aaa"})",
    R"({"status":"Digest: sha256:abc"})",
    R"({"status":"Status: Downloaded newer image for x:v1"})",
};

TEST(HumanSize, MatchesDockersUnitsHumanSize) {
  EXPECT_EQ(human_size(0), "0B");
  EXPECT_EQ(human_size(999), "999B");
  EXPECT_EQ(human_size(33280), "33.28kB");
  EXPECT_EQ(human_size(300015), "300kB");
  EXPECT_EQ(human_size(302592), "302.6kB");
  EXPECT_EQ(human_size(1982391), "1.982MB");
  EXPECT_EQ(human_size(1e9), "1GB");
  EXPECT_EQ(human_size(1500), "1.5kB");
}

TEST(DurationString, MatchesGoDurationForWholeSeconds) {
  EXPECT_EQ(duration_string(0), "0s");
  EXPECT_EQ(duration_string(45), "45s");
  EXPECT_EQ(duration_string(90), "1m30s");
  EXPECT_EQ(duration_string(120), "2m0s");
  EXPECT_EQ(duration_string(3723), "1h2m3s");
}

TEST(ProgressString, BarOnlyWiderThan110AndTimeLeftWiderThan50) {
  auto detail = [](int64_t current, int64_t total, int64_t start = 0, std::string units = "") {
    ProgressDetail d;
    d.current = current;
    d.total = total;
    d.start = start;
    d.units = std::move(units);
    return d;
  };
  ProgressDetail p = detail(250, 1000, 100);
  int64_t now = 110LL * 1000000000;  // 10 s after start: 40 ms per byte, 750 left -> 30 s
  EXPECT_EQ(progress_string(p, 120, now),
            "[============>" + std::string(38, ' ') + "]     250B/1kB 30s");
  EXPECT_EQ(progress_string(p, 80, now), "    250B/1kB 30s");
  EXPECT_EQ(progress_string(p, 40, now), "    250B/1kB");
  ProgressDetail over = detail(2000, 1000);
  EXPECT_EQ(progress_string(over, 120, 0), "[" + std::string(50, '=') + ">]      2kB");
  ProgressDetail no_total = detail(33280, 0);
  EXPECT_EQ(progress_string(no_total, 120, 0), " 33.28kB");
  EXPECT_EQ(progress_string(ProgressDetail{}, 120, 0), "");
  ProgressDetail units = detail(3, 10, 0, "steps");
  EXPECT_EQ(progress_string(units, 80, 0), "3/10 steps");
}

TEST(ProgressRenderer, PlainOutputHasOneLinePerStatusAndNoBars) {
  ProgressRenderer r(false, 200, [] { return int64_t{0}; });
  EXPECT_EQ(render_all(r, kPull),
            "v1: Pulling from test/app\n"
            "aaa: Pulling fs layer\n"
            "bbb: Pulling fs layer\n"
            "bbb: Download complete\n"
            "aaa: Pull complete\n"
            "Digest: sha256:abc\n"
            "Status: Downloaded newer image for x:v1\n");
  EXPECT_FALSE(r.error());
}

TEST(ProgressRenderer, TerminalOutputRewritesEachLayersLineInPlace) {
  ProgressRenderer r(true, 120, [] { return int64_t{0}; });
  std::string bar = "[" + std::string(25, '=') + ">" + std::string(25, ' ') + "] ";
  EXPECT_EQ(render_all(r, kPull),
            "v1: Pulling from test/app\n"
            // a new id: a new line, back up to it, erase, write, down again
            "\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B"
            "\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer \r\x1b[1B"
            // aaa is two lines up
            "\x1b[2A\x1b[2K\raaa: Downloading " +
                bar +
                "   500kB/1MB\r\x1b[2B"
                "\x1b[1A\x1b[2K\rbbb: Download complete \r\x1b[1B"
                "\x1b[2A\x1b[2K\raaa: Pull complete \r\x1b[2B"
                "Digest: sha256:abc\n"
                "Status: Downloaded newer image for x:v1\n");
}

TEST(ProgressRenderer, NarrowTerminalHasNoBar) {
  ProgressRenderer r(true, 80, [] { return int64_t{0}; });
  EXPECT_EQ(
      r.render(json::parse(
          R"({"status":"Pushing","progressDetail":{"current":41984,"total":1982391},"id":"ea7fe62807a4"})")),
      "\n\x1b[1A\x1b[2K\rea7fe62807a4: Pushing  41.98kB/1.982MB\r\x1b[1B");
}

TEST(ProgressRenderer, AMessageWithoutIdStartsANewBlock) {
  ProgressRenderer r(true, 120, [] { return int64_t{0}; });
  r.render(json::parse(R"({"status":"Preparing","progressDetail":{},"id":"a"})"));
  r.render(json::parse(R"({"status":"latest: digest: sha256:x size: 1"})"));
  // "a" is new again: a fresh line below, not two lines up.
  EXPECT_EQ(r.render(json::parse(R"({"status":"Pushed","progressDetail":{},"id":"a"})")),
            "\n\x1b[1A\x1b[2K\ra: Pushed \r\x1b[1B");
}

TEST(ProgressRenderer, ErrorStopsTheStreamAndIsNotPrinted) {
  ProgressRenderer r(false, 200);
  std::string out = r.feed(
      "{\"status\":\"The push refers to repository [127.0.0.1:1/x]\"}\r\n"
      "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"ea7fe62807a4\"}\r\n"
      "{\"errorDetail\":{\"message\":\"no basic auth credentials\"},\"error\":\"no basic auth "
      "credentials\"}\r\n"
      "{\"status\":\"after\"}\r\n");
  EXPECT_EQ(out,
            "The push refers to repository [127.0.0.1:1/x]\n"
            "ea7fe62807a4: Preparing\n");
  ASSERT_TRUE(r.error());
  EXPECT_EQ(*r.error(), "no basic auth credentials");
}

TEST(ProgressRenderer, FeedReassemblesMessagesSplitAnywhereAndHandsAuxToItsCallback) {
  ProgressRenderer r(false, 200);
  json aux;
  r.on_aux([&](const json& a) { aux = a; });
  std::string stream =
      "{\"status\":\"v1: digest: sha256:72 size: 738\"}\r\n"
      "{\"progressDetail\":{},\"aux\":{\"Tag\":\"v1\",\"Digest\":\"sha256:72\",\"Size\":738}}\r\n"
      "{\"stream\":\"Step 1/2\\n\"}";
  std::string out;
  for (char c : stream) {
    out += r.feed(std::string_view(&c, 1));
  }
  out += r.finish();
  EXPECT_EQ(out, "v1: digest: sha256:72 size: 738\nStep 1/2\n");
  EXPECT_EQ(aux, json::parse(R"({"Tag":"v1","Digest":"sha256:72","Size":738})"));
}

}  // namespace
}  // namespace mydocker::cli
