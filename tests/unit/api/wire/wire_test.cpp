// SPDX-License-Identifier: Apache-2.0
// api/wire: table-driven, one row per behaviour the transcripts show.
#include <gtest/gtest.h>

#include "api/wire/errors.h"
#include "api/wire/filters.h"
#include "api/wire/query.h"
#include "api/wire/stream.h"
#include "api/wire/version.h"

namespace mydocker::api::wire {
namespace {

TEST(ErrorBody, DockerShapeWithNewline) {
  EXPECT_EQ(error_body("page not found"), "{\"message\":\"page not found\"}\n");
  EXPECT_EQ(error_body("invalid URL escape \"%zz\""),
            "{\"message\":\"invalid URL escape \\\"%zz\\\"\"}\n");
  EXPECT_EQ(parse_error_body(error_body("No such container: x")), "No such container: x");
  EXPECT_FALSE(parse_error_body("[]"));
  // Invalid UTF-8 must not throw.
  EXPECT_FALSE(error_body(std::string("bad \xff name")).empty());
}

TEST(ApiVersion, ParseAndOrder) {
  struct Row {
    const char* text;
    bool ok;
    int major;
    int minor;
  };
  for (const Row& r : {Row{"1.41", true, 1, 41}, Row{"1.24", true, 1, 24}, Row{"1.x", false, 0, 0},
                       Row{"1", false, 0, 0}, Row{"1.2.3", false, 0, 0}, Row{"", false, 0, 0},
                       Row{".5", false, 0, 0}}) {
    auto v = ApiVersion::parse(r.text);
    ASSERT_EQ(v.has_value(), r.ok) << r.text;
    if (r.ok) {
      EXPECT_EQ(v->major, r.major);
      EXPECT_EQ(v->minor, r.minor);
      EXPECT_EQ(v->str(), r.text);
    }
  }
  // Numeric, not lexical: 1.9 < 1.10.
  EXPECT_LT(*ApiVersion::parse("1.9"), *ApiVersion::parse("1.10"));
  EXPECT_GT(*ApiVersion::parse("1.50"), *ApiVersion::parse("1.44"));
}

TEST(Query, StrictUnescape) {
  EXPECT_EQ(*unescape("a%20b+c", true), "a b c");
  EXPECT_EQ(*unescape("a+b", false), "a+b");
  auto bad = unescape("%zz", true);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "invalid URL escape \"%zz\"");  // transcript 020
  EXPECT_EQ(unescape("x%4", true).error().message(), "invalid URL escape \"%4\"");
  EXPECT_EQ(unescape("%", true).error().message(), "invalid URL escape \"%\"");
}

TEST(Query, ParseQuery) {
  auto q = parse_query("names=a&names=b%3Ac&all&filters=%7B%7D");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->count("names"), 2u);
  EXPECT_EQ(q->find("all")->second, "");
  EXPECT_EQ(q->find("filters")->second, "{}");
  EXPECT_FALSE(parse_query("filters=%zz"));
  EXPECT_TRUE(parse_query("")->empty());
  EXPECT_EQ(escape("a b/c"), "a%20b%2Fc");
}

TEST(Query, BoolValueAsDocker) {
  // "", 0, no, false, none (any case) are false; anything else true (083: all=maybe).
  for (const char* f : {"", "0", "no", "false", "none", "FALSE", " No "}) {
    EXPECT_FALSE(parse_bool_value(f)) << f;
  }
  for (const char* t : {"1", "true", "yes", "maybe", "2"}) {
    EXPECT_TRUE(parse_bool_value(t)) << t;
  }
}

TEST(Query, IntValueWithGoWording) {
  EXPECT_EQ(*parse_int_value("42"), 42);
  EXPECT_EQ(*parse_int_value("-1"), -1);
  auto bad = parse_int_value("abc");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "strconv.Atoi: parsing \"abc\": invalid syntax");  // 023
  EXPECT_FALSE(parse_int_value(""));
  EXPECT_FALSE(parse_int_value("1.5"));
  EXPECT_EQ(parse_int_value("99999999999999999999").error().message(),
            "strconv.Atoi: parsing \"99999999999999999999\": value out of range");
}

TEST(Filters, BothForms) {
  auto f = parse_filters(R"({"label":["b=2","a=1","a=1"],"status":["exited"]})");
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->at("label"), (std::vector<std::string>{"a=1", "b=2"}));
  auto old = parse_filters(R"({"dangling":{"true":true},"label":{"x":false}})");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->at("dangling"), std::vector<std::string>{"true"});
  EXPECT_TRUE(old->at("label").empty());
  EXPECT_TRUE(parse_filters("")->empty());
  EXPECT_TRUE(parse_filters("{}")->empty());
  EXPECT_EQ(filters_to_json(*f), R"({"label":["a=1","b=2"],"status":["exited"]})");
}

TEST(Filters, GoSyntaxErrors) {
  struct Row {
    const char* text;
    const char* message;
  };
  for (const Row& r : {
           Row{"notjson", "invalid character 'o' in literal null (expecting 'u')"},  // 021
           Row{"xyz", "invalid character 'x' looking for beginning of value"},
           Row{"{\"a\":", "unexpected end of JSON input"},
           Row{"tru", "unexpected end of JSON input"},
           Row{"[1]",
               "json: cannot unmarshal array into Go value of type "
               "map[string]map[string]bool"},
           Row{R"({"a":"b"})",
               "json: cannot unmarshal string into Go value of type "
               "map[string]bool"},
           Row{R"({"a":[1]})", "json: cannot unmarshal number into Go value of type string"},
       }) {
    auto f = parse_filters(r.text);
    ASSERT_FALSE(f) << r.text;
    EXPECT_EQ(f.error().message(), r.message) << r.text;
  }
}

TEST(Filters, KeyCheck) {
  auto f = *parse_filters(R"({"nosuchkey":["x"]})");
  auto r = check_filter_keys(f, {"label", "name"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "Invalid filter 'nosuchkey'");  // 022
  EXPECT_TRUE(check_filter_keys(f, {"nosuchkey"}));
}

TEST(Stream, FrameHeader) {
  // 085: [stdout] 01 00 00 00 00 00 00 05 "out1\n".
  EXPECT_EQ(frame(StdStream::Stdout, "out1\n"), std::string("\x01\0\0\0\0\0\0\x05out1\n", 13));
  auto h = frame_header(StdStream::Stderr, 0x01020304);
  EXPECT_EQ(std::string(h.data(), h.size()), std::string("\x02\0\0\0\x01\x02\x03\x04", 8));
  FrameHeader parsed{};
  ASSERT_TRUE(parse_frame_header(std::string(h.data(), h.size()), parsed));
  EXPECT_EQ(parsed.stream, StdStream::Stderr);
  EXPECT_EQ(parsed.length, 0x01020304u);
  EXPECT_FALSE(parse_frame_header("short", parsed));
  EXPECT_FALSE(parse_frame_header(std::string("\x01\x01\0\0\0\0\0\0", 8), parsed));
}

}  // namespace
}  // namespace mydocker::api::wire
