// SPDX-License-Identifier: Apache-2.0
#include "engine/state/filters.h"

#include <gtest/gtest.h>

namespace mydocker::engine::state {
namespace {

ContainerInfo make(const std::string& id, const std::string& name, Status s, int64_t code,
                   const std::string& created, std::map<std::string, std::string> labels = {}) {
  ContainerInfo c;
  c.id = id;
  c.name = name;
  c.state.status = s;
  c.state.exit_code = code;
  c.created = created;
  if (s != Status::Created) {
    c.state.started_at = created;
  }
  c.config.labels = std::move(labels);
  c.image_id = "sha256:" + std::string(64, s == Status::Running ? 'a' : 'b');
  return c;
}

FilterContext ctx() {
  FilterContext c;
  c.resolve_image = [](const std::string& ref) -> std::optional<std::string> {
    if (ref == "busybox") {
      return "sha256:" + std::string(64, 'a');
    }
    return std::nullopt;
  };
  c.container_created = [](const std::string& ref) -> base::Result<Instant> {
    if (ref == "mid") {
      return Instant{1000, 0};
    }
    return base::make_error(base::ErrorCode::NotFound, "No such container: {}", ref);
  };
  c.now_unix = 5000;
  return c;
}

const ContainerInfo kRunning =
    make("4850cc32", "/tx-c1", Status::Running, 0, "1970-01-01T00:16:39Z", {{"tx-label", "1"}});
const ContainerInfo kExited =
    make("e0d3d0cf", "/tx-exited", Status::Exited, 2, "1970-01-01T00:16:41Z", {{"tx-label", "3"}});
const ContainerInfo kCreated =
    make("1e46fc25", "/nervous_cray", Status::Created, 0, "1970-01-01T00:16:40Z");

std::vector<std::string> names(const FilterArgs& args) {
  auto f = ContainerFilter::parse_list(args, ctx());
  EXPECT_TRUE(f.has_value()) << f.error().message();
  std::vector<std::string> out;
  for (const auto& c : {kRunning, kExited, kCreated}) {
    if (f->matches(c)) {
      out.push_back(c.name);
    }
  }
  return out;
}

using V = std::vector<std::string>;

TEST(FiltersTest, ListMatching) {
  EXPECT_EQ(names({}), (V{"/tx-c1", "/tx-exited", "/nervous_cray"}));
  EXPECT_EQ(names({{"name", {"tx-c"}}}), (V{"/tx-c1"}));
  EXPECT_EQ(names({{"name", {"^/tx"}}}), (V{"/tx-c1", "/tx-exited"}));
  EXPECT_EQ(names({{"name", {"cray", "exited"}}}), (V{"/tx-exited", "/nervous_cray"}));
  EXPECT_EQ(names({{"id", {"e0d3"}}}), (V{"/tx-exited"}));
  EXPECT_EQ(names({{"label", {"tx-label=1"}}}), (V{"/tx-c1"}));
  EXPECT_EQ(names({{"label", {"tx-label"}}}), (V{"/tx-c1", "/tx-exited"}));
  EXPECT_EQ(names({{"label", {"tx-label", "tx-label=3"}}}), (V{"/tx-exited"}));
  EXPECT_EQ(names({{"status", {"exited"}}}), (V{"/tx-exited"}));
  EXPECT_EQ(names({{"status", {"running", "created"}}}), (V{"/tx-c1", "/nervous_cray"}));
  EXPECT_EQ(names({{"exited", {"2"}}}), (V{"/tx-exited"}));
  EXPECT_EQ(names({{"exited", {"0"}}}), (V{}));
  EXPECT_EQ(names({{"ancestor", {"busybox"}}}), (V{"/tx-c1"}));
  EXPECT_EQ(names({{"ancestor", {"nosuch"}}}), (V{}));
  EXPECT_EQ(names({{"before", {"mid"}}}), (V{"/tx-c1"}));
  EXPECT_EQ(names({{"since", {"mid"}}}), (V{"/tx-exited"}));
  EXPECT_EQ(names({{"is-task", {"false"}}}), (V{"/tx-c1", "/tx-exited", "/nervous_cray"}));
  EXPECT_EQ(names({{"is-task", {"true"}}}), (V{}));
  EXPECT_EQ(names({{"health", {"none"}}}), (V{"/tx-c1", "/tx-exited", "/nervous_cray"}));
  EXPECT_EQ(names({{"volume", {"data"}}}), (V{}));
}

TEST(FiltersTest, ListErrorsInDockerWords) {
  struct Row {
    FilterArgs args;
    base::ErrorCode code;
    std::string message;
  };
  const Row rows[] = {
      {{{"nosuchkey", {"1"}}}, base::ErrorCode::InvalidArgument, "Invalid filter 'nosuchkey'"},
      {{{"status", {"sleeping"}}},
       base::ErrorCode::InvalidArgument,
       "Invalid filter 'status=sleeping'"},
      {{{"exited", {"x"}}},
       base::ErrorCode::InvalidArgument,
       "strconv.Atoi: parsing \"x\": invalid syntax"},
      {{{"is-task", {"maybe"}}},
       base::ErrorCode::InvalidArgument,
       "Invalid filter 'is-task=[maybe]'"},
      {{{"before", {"nosuch"}}}, base::ErrorCode::NotFound, "No such container: nosuch"},
  };
  for (const auto& r : rows) {
    auto f = ContainerFilter::parse_list(r.args, ctx());
    ASSERT_FALSE(f.has_value()) << r.message;
    EXPECT_EQ(f.error().code(), r.code);
    EXPECT_EQ(f.error().message(), r.message);
  }
}

TEST(FiltersTest, StatusAndExitedListStoppedContainers) {
  EXPECT_TRUE(ContainerFilter::parse_list({{"status", {"exited"}}}, ctx())->wants_stopped());
  EXPECT_FALSE(ContainerFilter::parse_list({{"name", {"x"}}}, ctx())->wants_stopped());
}

TEST(FiltersTest, Prune) {
  auto bad = ContainerFilter::parse_prune({{"nosuch", {"1"}}}, ctx());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "Invalid filter 'nosuch'");
  auto f =
      ContainerFilter::parse_prune({{"label", {"tx-label"}}, {"label!", {"tx-label=1"}}}, ctx());
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->matches(kRunning));
  EXPECT_TRUE(f->matches(kExited));
  EXPECT_FALSE(f->matches(kCreated));
  // until: created before now - 4000s = 1000.
  auto u = ContainerFilter::parse_prune({{"until", {"4000s"}}}, ctx());
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->matches(kRunning));   // 999
  EXPECT_FALSE(u->matches(kCreated));  // 1000
}

TEST(FiltersTest, UntilValues) {
  EXPECT_EQ(*parse_until("10m", 5000), 4400);
  EXPECT_EQ(*parse_until("1h30m", 10000), 4600);
  EXPECT_EQ(*parse_until("1700000000", 0), 1700000000);
  EXPECT_EQ(*parse_until("1700000000.5", 0), 1700000000);
  EXPECT_EQ(*parse_until("2023-11-14T22:13:20Z", 0), 1700000000);
  for (const char* bad : {"", "abc", "10x", "m"}) {
    EXPECT_FALSE(parse_until(bad, 0).has_value()) << bad;
  }
}

}  // namespace
}  // namespace mydocker::engine::state
