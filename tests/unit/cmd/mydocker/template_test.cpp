// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker/template.h"

#include <gtest/gtest.h>

namespace mydocker::cli {
namespace {

const char* kInspect = R"({
  "Id": "4850cc3221be21fdfed941117e58be884a83ed1d425c1b52a39d8325fb33273f",
  "Name": "/tx-c1",
  "State": {"Status": "running", "Running": true, "Paused": false, "Pid": 4242, "ExitCode": 0,
            "Health": null},
  "Config": {"Hostname": "4850cc3221be", "Cmd": ["sh", "-c", "exit 3"], "Image": "busybox",
             "Labels": {"k": "v", "a": "1"}, "Env": ["PATH=/bin", "A=<&>"]},
  "HostConfig": {"Memory": 536870912, "NanoCpus": 1500000000, "CpuShares": 0, "Ratio": 1.5},
  "Mounts": [{"Source": "/a", "Destination": "/x"}, {"Source": "/b", "Destination": "/y"}]
})";

struct Row {
  std::string tmpl;
  std::string want;
};

TEST(TemplateTest, EvaluatesDockersFormatSubset) {
  OJson data = OJson::parse(kInspect);
  std::vector<Row> rows = {
      {"{{.State.Status}}", "running"},
      {"{{.Id}}", "4850cc3221be21fdfed941117e58be884a83ed1d425c1b52a39d8325fb33273f"},
      {"{{.State.ExitCode}}", "0"},
      {"{{.State.Pid}}", "4242"},
      {"{{.HostConfig.Memory}}", "536870912"},
      {"{{.HostConfig.Ratio}}", "1.5"},
      {"{{.State.Running}}", "true"},
      {"{{.State.Health}}", "<nil>"},
      {"{{.Nope}}", "<no value>"},
      {"{{index .Config.Labels \"k\"}}", "v"},
      {"{{index .Config.Labels \"missing\"}}", "<no value>"},
      {"{{index .Config.Cmd 1}}", "-c"},
      {"{{.Config.Labels}}", "map[a:1 k:v]"},
      {"{{.Config.Cmd}}", "[sh -c exit 3]"},
      {"{{json .Config.Cmd}}", R"(["sh","-c","exit 3"])"},
      {"{{json .Config.Labels}}", R"({"k":"v","a":"1"})"},
      {"{{json .Config.Env}}", R"(["PATH=/bin","A=<&>"])"},
      {"{{json .Name}}", R"("/tx-c1")"},
      {"{{.Name | json}}", R"("/tx-c1")"},
      {"{{join .Config.Cmd \" \"}}", "sh -c exit 3"},
      {"{{upper .State.Status}}", "RUNNING"},
      {"{{title \"hello world\"}}", "Hello World"},
      {"{{len .Mounts}}", "2"},
      {"{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}", "/a:/x /b:/y "},
      {"{{range .Nope}}x{{else}}none{{end}}", "none"},
      {"{{if .State.Running}}up{{else}}down{{end}}", "up"},
      {"{{if .State.Paused}}p{{else if .State.Running}}r{{else}}s{{end}}", "r"},
      {"{{with .State}}{{.Status}}{{end}}", "running"},
      {"{{if eq .State.Status \"running\"}}yes{{end}}", "yes"},
      {"{{if not .State.Paused}}np{{end}}", "np"},
      {"{{printf \"%s=%d\" .Name .State.ExitCode}}", "/tx-c1=0"},
      {"{{printf \"%q\" .Config.Image}}", "\"busybox\""},
      {"a  {{- .Config.Image -}}  b", "abusyboxb"},
      {"{{truncate .Id 12}}", "4850cc3221be"},
      {"{{(index .Config.Cmd 0)}}", "sh"},
      {"{{index (split \"a:b\" \":\") 1}}", "b"},
      {"{{lower \"ABC\"}}\t{{\"x\"}}", "abc\tx"},
      {"{{/* a comment */}}ok", "ok"},
      {"{{.}}", ""},  // replaced below: the whole map
  };
  rows.pop_back();
  for (const auto& row : rows) {
    auto t = Template::parse(row.tmpl);
    ASSERT_TRUE(t) << row.tmpl << ": " << t.error().to_string();
    auto got = t->execute(data);
    ASSERT_TRUE(got) << row.tmpl << ": " << got.error().to_string();
    EXPECT_EQ(*got, row.want) << row.tmpl;
  }
}

TEST(TemplateTest, FieldWithArgumentLooksUpLikeDockersLabelMethod) {
  OJson row = OJson::parse(R"({"Label": {"com.x": "1"}, "Names": "web"})");
  auto t = Template::parse("{{.Names}} {{.Label \"com.x\"}} [{{.Label \"nope\"}}]");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t->execute(row), "web 1 []");
  // A header context: the title stands for the call.
  OJson headers = OJson::parse(R"({"Label": "LABEL", "Names": "NAMES"})");
  EXPECT_EQ(*t->execute(headers), "NAMES LABEL [LABEL]");
}

TEST(TemplateTest, BadTemplatesAreErrors) {
  OJson data = OJson::parse(kInspect);
  for (const char* bad : {"{{.Id", "{{if .Id}}x", "{{end}}", "{{nosuch .Id}}", "{{\"open}}", "{{}}",
                          "{{.Id | }}", "{{index .Id}} {{range 3}}{{end}}"}) {
    auto t = Template::parse(bad);
    if (t) {
      auto r = t->execute(data);
      EXPECT_FALSE(r) << bad << " gave " << *r;
    }
  }
  auto t = Template::parse("{{.Config.Image.Foo}}");
  ASSERT_TRUE(t);
  auto r = t->execute(data);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("can't evaluate field Foo"), std::string::npos);
}

TEST(TemplateTest, GoPrintOfValues) {
  EXPECT_EQ(go_print(OJson::parse("[1,\"a\",true,null]")), "[1 a true <nil>]");
  EXPECT_EQ(go_print(OJson::parse(R"({"b":{"c":2},"a":[]})")), "map[a:[] b:map[c:2]]");
  EXPECT_EQ(go_print(OJson(2.0)), "2");
  EXPECT_EQ(go_print(OJson(0.25)), "0.25");
}

}  // namespace
}  // namespace mydocker::cli
