// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker/format.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "cmd/mydocker/views.h"

namespace mydocker::cli {
namespace {

TEST(UnitsTest, HumanSizeMatchesGoUnits) {
  struct Row {
    double size;
    int precision;
    std::string want;
  };
  std::vector<Row> rows = {
      {0, 3, "0B"},           {999, 3, "999B"},
      {1000, 3, "1kB"},       {1982391, 3, "1.98MB"},
      {4261376, 3, "4.26MB"}, {1234567890, 3, "1.23GB"},
      {12345, 4, "12.35kB"},  {4261376, 4, "4.261MB"},
      {1e15, 3, "1PB"},       {36700160, 3, "36.7MB"},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(human_size(r.size, r.precision), r.want) << r.size;
  }
}

TEST(UnitsTest, HumanDurationMatchesGoUnits) {
  struct Row {
    int64_t seconds;
    std::string want;
  };
  std::vector<Row> rows = {
      {0, "Less than a second"}, {1, "1 second"},         {5, "5 seconds"},
      {59, "59 seconds"},        {60, "About a minute"},  {119, "About a minute"},
      {120, "2 minutes"},        {3599, "59 minutes"},    {3600, "About an hour"},
      {5399, "About an hour"},   {5400, "2 hours"},       {47 * 3600, "47 hours"},
      {48 * 3600, "2 days"},     {14 * 86400, "2 weeks"}, {60 * 86400, "2 months"},
      {800 * 86400, "2 years"},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(human_duration(r.seconds), r.want) << r.seconds;
  }
}

TEST(UnitsTest, EllipsisAndShortId) {
  EXPECT_EQ(ellipsis("sh -c 'echo hi; exit 2'", 20), "sh -c 'echo hi; exi…");
  EXPECT_EQ(ellipsis("short", 20), "short");
  EXPECT_EQ(ellipsis("exactly-twenty-chars", 20), "exactly-twenty-chars");
  EXPECT_EQ(rune_count("exi…"), 4u);
  EXPECT_EQ(short_id("sha256:e9577e1f23b0ca679fd993f49be0a3ae"), "e9577e1f23b0");
  EXPECT_EQ(short_id("4850cc3221be21fdfed941117e58be88"), "4850cc3221be");
}

TEST(TabwriterTest, PadsColumnsLikeDockersTabwriter) {
  // minwidth 10, padding 3; the last cell of a line is not padded.
  EXPECT_EQ(tabwrite("A\tBB\tC\nlonger-cell\tx\ty\n"),
            "A             BB        C\n"
            "longer-cell   x         y\n");
  // Runes, not bytes, decide the width.
  EXPECT_EQ(tabwrite("ab…\tz\n"), "ab…       z\n");
  // Lines without a column end its block.
  EXPECT_EQ(tabwrite("aaaaaaaaaaaaa\tb\nplain\nc\td\n"), "aaaaaaaaaaaaa   b\nplain\nc         d\n");
}

TEST(FormatTest, ParsesTableJsonAndEscapes) {
  Format f = parse_format("table {{.ID}}\\t{{.Names}}");
  EXPECT_TRUE(f.table);
  EXPECT_EQ(f.tmpl, "{{.ID}}\t{{.Names}}");
  Format j = parse_format("json");
  EXPECT_FALSE(j.table);
  EXPECT_EQ(j.tmpl, "{{json .}}");
  EXPECT_EQ(parse_format("{{.ID}}\\n").tmpl, "{{.ID}}\n");
}

// Two entries of /containers/json as transcript 076 shows them.
const char* kPs = R"([
 {"Id":"e0d3d0cfddc199b966c8b0a1a6b6e25de144dbbd3e333b96b1f7acf2856191c1","Names":["/tx-exited"],
  "Image":"busybox","ImageID":"sha256:e9577e1f","Command":"sh -c 'echo hi; exit 2'",
  "Created":1000,"Ports":[],"Labels":{"tx-label":"3","a":"b"},"State":"exited",
  "Status":"Exited (2) 5 seconds ago","SizeRw":12,"SizeRootFs":1982391,
  "HostConfig":{"NetworkMode":"default"},"NetworkSettings":{"Networks":{"bridge":{}}},
  "Mounts":[]},
 {"Id":"4850cc3221be21fdfed941117e58be884a83ed1d425c1b52a39d8325fb33273f","Names":["/tx-c1"],
  "Image":"busybox","ImageID":"sha256:e9577e1f","Command":"true","Created":900,"Ports":[],
  "Labels":{},"State":"running","Status":"Up 2 minutes","SizeRw":0,"SizeRootFs":0,
  "HostConfig":{"NetworkMode":"default"},"NetworkSettings":{"Networks":{"bridge":{}}},
  "Mounts":[]}
])";

TEST(PsTest, DefaultTableIsDockers) {
  auto out = render_ps(Json::parse(kPs), PsView{}, 1005);
  ASSERT_TRUE(out) << out.error().to_string();
  // The exact text, column by column.
  std::string want =
      "CONTAINER ID   IMAGE     COMMAND                  CREATED              STATUS       "
      "              PORTS     NAMES\n"
      "e0d3d0cfddc1   busybox   \"sh -c 'echo hi; exi…\"   5 seconds ago        Exited (2) 5 "
      "seconds ago             tx-exited\n"
      "4850cc3221be   busybox   \"true\"                   About a minute ago   Up 2 minutes "
      "                        tx-c1\n";
  EXPECT_EQ(*out, want);
}

TEST(PsTest, QuietNoTruncSizeAndFormats) {
  Json list = Json::parse(kPs);
  EXPECT_EQ(*render_ps(list, PsView{.quiet = true}, 1005), "e0d3d0cfddc1\n4850cc3221be\n");
  EXPECT_EQ(*render_ps(list, PsView{.quiet = true, .no_trunc = true}, 1005),
            "e0d3d0cfddc199b966c8b0a1a6b6e25de144dbbd3e333b96b1f7acf2856191c1\n"
            "4850cc3221be21fdfed941117e58be884a83ed1d425c1b52a39d8325fb33273f\n");
  EXPECT_EQ(*render_ps(list, PsView{.format = "{{.Names}}: {{.Status}}"}, 1005),
            "tx-exited: Exited (2) 5 seconds ago\ntx-c1: Up 2 minutes\n");
  EXPECT_EQ(*render_ps(list, PsView{.format = "{{.Labels}} {{.Label \"tx-label\"}}"}, 1005),
            "a=b,tx-label=3 3\n \n");
  EXPECT_EQ(*render_ps(list, PsView{.format = "table {{.ID}}\\t{{.Size}}"}, 1005),
            "CONTAINER ID   SIZE\n"
            "e0d3d0cfddc1   12B (virtual 1.98MB)\n"
            "4850cc3221be   0B\n");
  auto json = render_ps(list, PsView{.format = "{{json .}}"}, 1005);
  ASSERT_TRUE(json);
  Json first = Json::parse(json->substr(0, json->find('\n')));
  EXPECT_EQ(first["ID"], "e0d3d0cfddc1");
  EXPECT_EQ(first["Command"], "\"sh -c 'echo hi; exi…\"");
  EXPECT_EQ(first["Names"], "tx-exited");
  EXPECT_EQ(first["Networks"], "bridge");
  EXPECT_EQ(first["State"], "exited");
  EXPECT_EQ(first["LocalVolumes"], "0");
  EXPECT_FALSE(first.contains("Label"));
  // A table with no containers still has its header.
  EXPECT_EQ(*render_ps(Json::array(), PsView{.format = "table {{.ID}}\\t{{.Names}}"}, 0),
            "CONTAINER ID   NAMES\n");
}

TEST(PsTest, CreatedAtIsGoTimeString) {
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(go_time_string(1795976755), "2026-11-29 18:25:55 +0000 UTC");
  auto out = render_ps(Json::parse(kPs), PsView{.format = "{{.CreatedAt}}"}, 1005);
  EXPECT_EQ(*out, "1970-01-01 00:16:40 +0000 UTC\n1970-01-01 00:15:00 +0000 UTC\n");
}

const char* kImages = R"([
 {"Containers":-1,"Created":1000,"Id":"sha256:e9577e1f23b0ca679fd993f49be0a3ae8da04597ced20c0d08ee3b4d879b6416",
  "Labels":null,"ParentId":"","RepoDigests":null,"RepoTags":["busybox:latest","tx-built:1"],
  "SharedSize":-1,"Size":4261376,"VirtualSize":4261376},
 {"Containers":-1,"Created":400,"Id":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  "Labels":null,"ParentId":"","RepoDigests":["<none>@<none>"],"RepoTags":["<none>:<none>"],
  "SharedSize":-1,"Size":1982391,"VirtualSize":1982391},
 {"Containers":-1,"Created":400,"Id":"sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
  "Labels":null,"ParentId":"","RepoDigests":["localhost:5000/x@sha256:aaaa"],
  "RepoTags":["localhost:5000/x:v1"],"SharedSize":-1,"Size":100,"VirtualSize":100}
])";

TEST(ImagesTest, DefaultTableRowsPerTag) {
  auto out = render_images(Json::parse(kImages), ImagesView{}, 1005);
  ASSERT_TRUE(out) << out.error().to_string();
  EXPECT_EQ(*out,
            "REPOSITORY         TAG       IMAGE ID       CREATED          SIZE\n"
            "busybox            latest    e9577e1f23b0   5 seconds ago    4.26MB\n"
            "tx-built           1         e9577e1f23b0   5 seconds ago    4.26MB\n"
            "<none>             <none>    0123456789ab   10 minutes ago   1.98MB\n"
            "localhost:5000/x   v1        fedcba987654   10 minutes ago   100B\n");
}

TEST(ImagesTest, QuietDigestsAndFormat) {
  Json list = Json::parse(kImages);
  EXPECT_EQ(*render_images(list, ImagesView{.quiet = true}, 1005),
            "e9577e1f23b0\ne9577e1f23b0\n0123456789ab\nfedcba987654\n");
  EXPECT_EQ(*render_images(list,
                           ImagesView{.digests = true,
                                      .format = "{{.Repository}} "
                                                "{{.Digest}}"},
                           1005),
            "busybox <none>\ntx-built <none>\n<none> <none>\nlocalhost:5000/x sha256:aaaa\n");
  EXPECT_EQ(render_images(list, ImagesView{.no_trunc = true, .format = "{{.ID}}"}, 1005)
                .value()
                .substr(0, 20),
            "sha256:e9577e1f23b0c");
}

TEST(HistoryTest, DefaultTable) {
  Json h = Json::parse(R"([
    {"Comment":"","Created":1000,"CreatedBy":"/bin/sh -c #(nop)  CMD [\"sh\"]","Id":"sha256:e9577e1f23b0ca679fd993f49be0a3ae8da04597ced20c0d08ee3b4d879b6416","Size":0,"Tags":["busybox:latest"]},
    {"Comment":"Imported from -","Created":400,"CreatedBy":"","Id":"<missing>","Size":4261376,"Tags":null}
  ])");
  auto out = render_history(h, HistoryView{}, 1005);
  ASSERT_TRUE(out) << out.error().to_string();
  EXPECT_EQ(*out,
            "IMAGE          CREATED          CREATED BY                      SIZE      COMMENT\n"
            "e9577e1f23b0   5 seconds ago    /bin/sh -c #(nop)  CMD [\"sh\"]   0B        \n"
            "<missing>      10 minutes ago                                   4.26MB    "
            "Imported from -\n");
  EXPECT_EQ(*render_history(h, HistoryView{.quiet = true}, 1005), "e9577e1f23b0\n<missing>\n");
  EXPECT_EQ(*render_history(h, HistoryView{.human = false, .format = "{{.Size}}"}, 1005),
            "0\n4261376\n");
}

TEST(SystemDfTest, Table) {
  Json df = Json::parse(R"({"LayersSize":4261376,
    "Images":[{"Containers":1,"Size":4261376,"SharedSize":0,"VirtualSize":4261376}],
    "Containers":[{"State":"exited","SizeRw":12},{"State":"running","SizeRw":8}],
    "Volumes":[],"BuildCache":null})");
  auto out = render_df(df, "");
  ASSERT_TRUE(out) << out.error().to_string();
  EXPECT_EQ(*out,
            "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"
            "Images          1         1         4.261MB   0B (0%)\n"
            "Containers      2         1         20B       12B (60%)\n"
            "Local Volumes   0         0         0B        0B\n"
            "Build Cache     0         0         0B        0B\n");
}

TEST(TopAndDiffTest, Render) {
  Json top = Json::parse(R"({"Titles":["UID","PID","PPID","C","STIME","TTY","TIME","CMD"],
    "Processes":[["root","4242","4200","0","18:25","?","00:00:00","sleep 100"]]})");
  EXPECT_EQ(render_top(top),
            "UID                 PID                 PPID                C                   "
            "STIME               TTY                 TIME                CMD\n"
            "root                4242                4200                0                   "
            "18:25               ?                   00:00:00            sleep 100\n");
  Json changes = Json::parse(R"([{"Path":"/etc","Kind":0},{"Path":"/etc/hosts2","Kind":1},
    {"Path":"/etc/passwd","Kind":2}])");
  EXPECT_EQ(render_changes(changes), "C /etc\nA /etc/hosts2\nD /etc/passwd\n");
  EXPECT_EQ(render_changes(Json()), "");
}

}  // namespace
}  // namespace mydocker::cli

namespace mydocker::cli {
namespace {

TEST(RowsJsonTest, WholeRowJsonIsHtmlEscapedLikeDockers) {
  // Checked against docker 28 on the same /images/json answer: {{json .}} escapes,
  // {{json .Digest}} does not.
  Json list = Json::parse(kImages);
  auto whole = render_images(list, ImagesView{.format = "{{json .}}"}, 1005);
  ASSERT_TRUE(whole);
  EXPECT_NE(whole->find(R"("Digest":"\u003cnone\u003e")"), std::string::npos) << *whole;
  EXPECT_NE(whole->find(R"("VirtualSize":"4.261MB")"), std::string::npos) << *whole;
  auto field = render_images(list, ImagesView{.format = "{{json .Digest}}"}, 1005);
  EXPECT_EQ(field->substr(0, field->find('\n')), "\"<none>\"");
}

TEST(RowsJsonTest, LabelColumnTitleIsTheKeysLastPart) {
  auto out = render_ps(Json::parse(kPs),
                       PsView{.format = "table {{.Names}}\\t{{.Label \"com.x.tx-label\"}}\\t"
                                        "{{.Label \"tx-label\"}}"},
                       1005);
  ASSERT_TRUE(out) << out.error().to_string();
  EXPECT_EQ(out->substr(0, out->find('\n')), "NAMES       tx label   tx label");
}

TEST(RowsJsonTest, HistoryJsonKeysAndRfc3339) {
  setenv("TZ", "UTC", 1);
  tzset();
  Json h = Json::parse(R"([{"Comment":"Imported from -","Created":1795972308,"CreatedBy":"",
    "Id":"sha256:e9577e1f23b0ca679fd993f49be0a3ae8da04597ced20c0d08ee3b4d879b6416",
    "Size":1982391,"Tags":["busybox:latest"]}])");
  auto out = render_history(h, HistoryView{.format = "{{json .}}"}, 1795972308 + 5 * 3600);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out,
            R"({"Comment":"Imported from -","CreatedAt":"2026-11-29T17:11:48Z","CreatedBy":"",)"
            R"("CreatedSince":"5 hours ago","ID":"e9577e1f23b0","Size":"1.98MB"})"
            "\n");
  auto raw = render_history(h, HistoryView{.human = false}, 0);
  EXPECT_EQ(raw->substr(0, raw->find('\n')),
            "IMAGE          CREATED AT             CREATED BY   SIZE      COMMENT");
}

}  // namespace
}  // namespace mydocker::cli
