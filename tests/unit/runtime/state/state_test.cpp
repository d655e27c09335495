// SPDX-License-Identifier: Apache-2.0
#include "runtime/state/state.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace mydocker::runtime::state {
namespace {

State sample() {
  State s;
  s.oci_version = "1.0.2";
  s.id = "web-1";
  s.status = Status::Created;
  s.pid = 4242;
  s.bundle = "/var/lib/b";
  s.annotations = {{"org.example/key", "v"}};
  s.init_start_time = 987654321;
  s.cgroups_path = "/mydocker/web-1";
  s.created = "2026-11-29T19:00:00.000000001Z";
  s.owner = 1000;
  return s;
}

TEST(StateJsonTest, RoundTripKeepsEveryField) {
  State s = sample();
  auto back = from_json(to_json(s));
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(back->oci_version, s.oci_version);
  EXPECT_EQ(back->id, s.id);
  EXPECT_EQ(back->status, s.status);
  EXPECT_EQ(back->pid, s.pid);
  EXPECT_EQ(back->bundle, s.bundle);
  EXPECT_EQ(back->annotations, s.annotations);
  EXPECT_EQ(back->init_start_time, s.init_start_time);
  EXPECT_EQ(back->cgroups_path, s.cgroups_path);
  EXPECT_EQ(back->created, s.created);
  EXPECT_EQ(back->owner, s.owner);
}

TEST(StateJsonTest, OciOutputHasOnlySchemaFieldsInRuncOrder) {
  State s = sample();
  s.status = Status::Running;
  std::string text = to_oci_json(s);
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["ociVersion"], "1.0.2");
  EXPECT_EQ(j["id"], "web-1");
  EXPECT_EQ(j["status"], "running");
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["bundle"], "/var/lib/b");
  EXPECT_EQ(j["annotations"]["org.example/key"], "v");
  EXPECT_FALSE(j.contains("mydocker"));
  EXPECT_LT(text.find("ociVersion"), text.find("\"id\""));
  EXPECT_LT(text.find("\"id\""), text.find("status"));
}

TEST(StateJsonTest, RejectsBrokenOrIncompleteState) {
  EXPECT_FALSE(from_json("{").has_value());
  EXPECT_FALSE(from_json("[]").has_value());
  auto missing = from_json(R"({"ociVersion":"1","id":"a","status":"created"})");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("bundle"), std::string::npos);
  EXPECT_FALSE(
      from_json(R"({"ociVersion":"1","id":"a","status":"dancing","bundle":"/b"})").has_value());
  EXPECT_FALSE(from_json(R"({"ociVersion":"1","id":"a","status":"created","bundle":"/b","pid":-4})")
                   .has_value());
}

TEST(StatusTest, DerivedFromProcessFifoAndFreezer) {
  struct Row {
    Observed o;
    Status want;
  };
  const Row rows[] = {
      {{false, true, false}, Status::Stopped},  // init died before start
      {{false, false, false}, Status::Stopped},
      {{false, false, true}, Status::Stopped},  // a dead init is stopped even if frozen
      {{true, true, false}, Status::Created},
      {{true, false, false}, Status::Running},
      {{true, false, true}, Status::Paused},
      {{true, true, true}, Status::Paused},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(derive_status(r.o), r.want) << r.o.init_alive << r.o.fifo_exists << r.o.frozen
                                          << " -> " << status_name(derive_status(r.o));
  }
}

TEST(StatusTest, NamesAreRuncs) {
  EXPECT_EQ(status_name(Status::Creating), "creating");
  EXPECT_EQ(status_name(Status::Created), "created");
  EXPECT_EQ(status_name(Status::Running), "running");
  EXPECT_EQ(status_name(Status::Paused), "paused");
  EXPECT_EQ(status_name(Status::Stopped), "stopped");
}

TEST(ContainerIdTest, RuncCharacterSet) {
  for (std::string_view ok : {"a", "web-1", "A_b.c+d", "0123456789abcdef"}) {
    EXPECT_TRUE(validate_id(ok).has_value()) << ok;
  }
  for (std::string_view bad : {"", ".", "..", "a/b", "../x", "a b", "é", "a\n"}) {
    auto r = validate_id(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  }
  EXPECT_FALSE(validate_id(std::string(1025, 'a')).has_value());
}

TEST(PathsTest, LayoutUnderRoot) {
  Paths p("/run/mydocker-runtime", "web");
  EXPECT_EQ(p.dir(), "/run/mydocker-runtime/web");
  EXPECT_EQ(p.state_json(), "/run/mydocker-runtime/web/state.json");
  EXPECT_EQ(p.exec_fifo(), "/run/mydocker-runtime/web/exec.fifo");
  EXPECT_EQ(p.config_json(), "/run/mydocker-runtime/web/config.json");
}

TEST(TimeTest, Rfc3339Utc) {
  std::string t = now_rfc3339();
  ASSERT_EQ(t.size(), 30u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t[19], '.');
  EXPECT_EQ(t.back(), 'Z');
}

}  // namespace
}  // namespace mydocker::runtime::state
