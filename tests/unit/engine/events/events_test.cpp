// SPDX-License-Identifier: Apache-2.0
#include "engine/events/events.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace mydocker::engine::events {
namespace {

Event container_event(const std::string& id, const std::string& name, const std::string& action,
                      std::map<std::string, std::string> extra = {}) {
  Event e;
  e.type = "container";
  e.action = action;
  e.actor_id = id;
  e.attributes = std::move(extra);
  e.attributes["name"] = name;
  e.attributes["image"] = "busybox";
  return e;
}

Event image_event(const std::string& id, const std::string& name, const std::string& action) {
  Event e;
  e.type = "image";
  e.action = action;
  e.actor_id = id;
  e.attributes["name"] = name;
  return e;
}

Filter make(std::map<std::string, std::vector<std::string>> f) {
  auto r = Filter::parse(f);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? std::move(*r) : Filter{};
}

TEST(EventFilter, UnknownKeyIsRejectedWithDockersWording) {
  auto r = Filter::parse({{"bogus", {"x"}}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_EQ(r.error().message(), "invalid filter 'bogus'");
}

TEST(EventFilter, EmptyMatchesEverything) {
  Filter f = make({});
  EXPECT_TRUE(f.matches(container_event("abc", "web", "start")));
  EXPECT_TRUE(f.matches(image_event("sha256:1", "busybox:latest", "tag")));
}

TEST(EventFilter, ContainerByIdPrefixOrNameAndDropsImageEvents) {
  Filter f = make({{"container", {"web"}}});
  EXPECT_TRUE(f.matches(container_event("abcdef", "web", "start")));
  EXPECT_FALSE(f.matches(container_event("abcdef", "db", "start")));
  EXPECT_FALSE(f.matches(image_event("sha256:1", "busybox:latest", "tag")));
  Filter by_id = make({{"container", {"abc"}}});
  EXPECT_TRUE(by_id.matches(container_event("abcdef", "x", "die")));
  EXPECT_FALSE(by_id.matches(container_event("ffabc", "x", "die")));
}

TEST(EventFilter, EventAndTypeExactExceptExecPrefixes) {
  Filter f = make({{"event", {"start", "die"}}, {"type", {"container"}}});
  EXPECT_TRUE(f.matches(container_event("a", "n", "start")));
  EXPECT_TRUE(f.matches(container_event("a", "n", "die")));
  EXPECT_FALSE(f.matches(container_event("a", "n", "destroy")));
  EXPECT_FALSE(f.matches(container_event("a", "n", "start_other")));
  Filter exec = make({{"event", {"exec_start"}}});
  EXPECT_TRUE(exec.matches(container_event("a", "n", "exec_start: sh -c true")));
  EXPECT_FALSE(exec.matches(container_event("a", "n", "exec_die")));
  Filter nosuch = make({{"type", {"nosuchtype"}}});
  EXPECT_FALSE(nosuch.matches(container_event("a", "n", "start")));
}

TEST(EventFilter, ImageMatchesIdNameAndNameWithoutTag) {
  Filter f = make({{"image", {"busybox"}}});
  EXPECT_TRUE(f.matches(container_event("a", "n", "start")));  // image=busybox attribute
  EXPECT_TRUE(f.matches(image_event("sha256:1", "busybox:latest", "tag")));
  EXPECT_FALSE(f.matches(image_event("sha256:1", "alpine:3", "tag")));
  Filter by_id = make({{"image", {"sha256:1"}}});
  EXPECT_TRUE(by_id.matches(image_event("sha256:1", "sha256:1", "delete")));
}

TEST(EventFilter, LabelsAllMustHold) {
  Filter f = make({{"label", {"app=web", "tier"}}});
  EXPECT_TRUE(f.matches(container_event("a", "n", "start", {{"app", "web"}, {"tier", "x"}})));
  EXPECT_FALSE(f.matches(container_event("a", "n", "start", {{"app", "web"}})));
  EXPECT_FALSE(f.matches(container_event("a", "n", "start", {{"app", "db"}, {"tier", "x"}})));
}

TEST(EventFilter, ScopeAndDaemon) {
  Filter f = make({{"scope", {"swarm"}}});
  EXPECT_FALSE(f.matches(container_event("a", "n", "start")));
  Filter local = make({{"scope", {"local"}}});
  EXPECT_TRUE(local.matches(container_event("a", "n", "start")));
}

TEST(EventTime, ParsesSecondsFractionsAndRfc3339) {
  EXPECT_EQ(*parse_timestamp(""), 0);
  EXPECT_EQ(*parse_timestamp("1700000000"), 1700000000LL * 1000000000);
  EXPECT_EQ(*parse_timestamp("1700000000.5"), 1700000000LL * 1000000000 + 500000000);
  EXPECT_EQ(*parse_timestamp("1700000000.000000001"), 1700000000LL * 1000000000 + 1);
  EXPECT_EQ(*parse_timestamp("2023-11-14T22:13:20Z"), 1700000000LL * 1000000000);
  EXPECT_EQ(*parse_timestamp("2023-11-14T22:13:20.25Z"), 1700000000LL * 1000000000 + 250000000);
}

TEST(EventTime, JunkIsDockersStrconvError) {
  auto r = parse_timestamp("notatime");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::Internal);
  EXPECT_EQ(r.error().message(), "strconv.ParseInt: parsing \"notatime\": invalid syntax");
}

TEST(EventJson, ContainerEventHasLegacyFieldsInDockersOrder) {
  Event e = container_event(std::string(64, 'a'), "tx-ev", "die", {{"exitCode", "0"}});
  e.time_nano = 1795976788211995928;
  std::string text = to_json(e).dump();
  EXPECT_EQ(text, "{\"status\":\"die\",\"id\":\"" + std::string(64, 'a') +
                      "\",\"from\":\"busybox\",\"Type\":\"container\",\"Action\":\"die\","
                      "\"Actor\":{\"ID\":\"" +
                      std::string(64, 'a') +
                      "\",\"Attributes\":{\"exitCode\":\"0\",\"image\":\"busybox\",\"name\":"
                      "\"tx-ev\"}},\"scope\":\"local\",\"time\":1795976788,\"timeNano\":"
                      "1795976788211995928}");
}

TEST(EventJson, ImageEventHasNoFromAndOtherTypesNoLegacyFields) {
  Event img = image_event("sha256:e9", "tx-evtag:1", "tag");
  img.time_nano = 5'000'000'001;
  auto j = to_json(img);
  EXPECT_EQ(j["status"], "tag");
  EXPECT_EQ(j["id"], "sha256:e9");
  EXPECT_FALSE(j.contains("from"));
  EXPECT_EQ(j["time"], 5);
  Event net;
  net.type = "network";
  net.action = "connect";
  net.actor_id = "n1";
  auto nj = to_json(net);
  EXPECT_FALSE(nj.contains("status"));
  EXPECT_EQ(nj.begin().key(), "Type");
}

TEST(EventLog, HistoryIsBoundedAndStampedInOrder) {
  Log log(4);
  for (int i = 0; i < 10; ++i) {
    log.publish(container_event("c" + std::to_string(i), "n", "start"));
  }
  auto h = log.history();
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h.front().actor_id, "c6");
  EXPECT_EQ(h.back().actor_id, "c9");
  for (size_t i = 1; i < h.size(); ++i) {
    EXPECT_LT(h[i - 1].time_nano, h[i].time_nano);
  }
  EXPECT_EQ(h[0].scope, "local");
}

TEST(EventLog, SinceReplaysAndUntilBoundsThePast) {
  Log log;
  for (int i = 1; i <= 5; ++i) {
    Event e = container_event("c" + std::to_string(i), "n", "start");
    e.time_nano = i * 1000;
    log.publish(e);
  }
  std::vector<Event> past;
  auto none = log.subscribe(make({}), 0, 0, past);
  EXPECT_TRUE(past.empty());  // no since/until: live only
  auto s = log.subscribe(make({}), 2000, 4000, past);
  ASSERT_EQ(past.size(), 3u);
  EXPECT_EQ(past.front().actor_id, "c2");
  EXPECT_EQ(past.back().actor_id, "c4");
  auto filtered = log.subscribe(make({{"container", {"c5"}}}), 1, 0, past);
  ASSERT_EQ(past.size(), 1u);
  EXPECT_EQ(past[0].actor_id, "c5");
  auto until_only = log.subscribe(make({}), 0, 3000, past);
  EXPECT_EQ(past.size(), 3u);  // Docker replays everything up to until
}

TEST(EventLog, SubscribersAreWokenWithMatchingEventsOnly) {
  Log log;
  std::vector<Event> past;
  auto sub = log.subscribe(make({{"event", {"die"}}}), 0, 0, past);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log.publish(container_event("a", "n", "start"));
    log.publish(container_event("a", "n", "die"));
  });
  auto e = sub->next(std::chrono::seconds(5));
  t.join();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->action, "die");
  EXPECT_FALSE(sub->next(std::chrono::milliseconds(10)));
  EXPECT_EQ(log.subscribers(), 1u);
  sub.reset();
  EXPECT_EQ(log.subscribers(), 0u);
}

TEST(EventLog, CloseWakesWaitersAndNewSubscriptionsStartClosed) {
  Log log;
  std::vector<Event> past;
  auto sub = log.subscribe(make({}), 0, 0, past);
  std::atomic<bool> woke{false};
  std::thread t([&] {
    auto e = sub->next(std::chrono::seconds(30));
    woke = !e.has_value();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto start = std::chrono::steady_clock::now();
  log.close();
  t.join();
  EXPECT_TRUE(woke);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(sub->closed());
  auto later = log.subscribe(make({}), 0, 0, past);
  EXPECT_TRUE(later->closed());
}

TEST(EventLog, SlowSubscriberDropsBeyondItsQueueNotOthers) {
  Log log(8);
  std::vector<Event> past;
  auto slow = log.subscribe(make({}), 0, 0, past);
  for (size_t i = 0; i < Log::kMaxQueued + 5; ++i) {
    log.publish(container_event("a", "n", "start"));
  }
  EXPECT_EQ(slow->dropped(), 5u);
  EXPECT_EQ(log.history().size(), 8u);
}

}  // namespace
}  // namespace mydocker::engine::events
