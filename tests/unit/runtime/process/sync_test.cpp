// SPDX-License-Identifier: Apache-2.0
#include "runtime/process/sync.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace mydocker::runtime::process {
namespace {

TEST(SyncTest, EncodesEachMessage) {
  EXPECT_EQ(encode({SyncType::Go, ""}), "go");
  EXPECT_EQ(encode({SyncType::Ready, ""}), "ready");
  EXPECT_EQ(encode({SyncType::Error, "mount `proc`: EPERM"}), "error: mount `proc`: EPERM");
}

TEST(SyncTest, ErrorDetailIsOneLine) {
  EXPECT_EQ(encode({SyncType::Error, "a\nb\nc"}), "error: a b c");
}

TEST(SyncTest, LongErrorIsCutToOnePacket) {
  std::string long_detail(10000, 'x');
  EXPECT_EQ(encode({SyncType::Error, long_detail}).size(), 4096u);
}

TEST(SyncTest, DecodesWhatItEncodes) {
  for (const SyncMessage& m : {SyncMessage{SyncType::Go, ""}, SyncMessage{SyncType::Ready, ""},
                               SyncMessage{SyncType::Error, "exec: \"x\": not found"}}) {
    auto d = decode(encode(m));
    ASSERT_TRUE(d.has_value()) << d.error().to_string();
    EXPECT_EQ(d->type, m.type);
    EXPECT_EQ(d->detail, m.detail);
  }
}

TEST(SyncTest, RejectsUnknownPackets) {
  for (std::string_view bad : {"", "GO", "ready!", "error", "error:x", "goo"}) {
    auto d = decode(bad);
    ASSERT_FALSE(d.has_value()) << bad;
    EXPECT_EQ(d.error().code(), base::ErrorCode::InvalidArgument);
  }
}

TEST(SyncTest, MessagesCrossASocketPairOnePerPacket) {
  auto pair = make_sync_pair();
  ASSERT_TRUE(pair.has_value());
  ASSERT_TRUE(send_sync(pair->child.get(), {SyncType::Error, "first"}).has_value());
  ASSERT_TRUE(send_sync(pair->child.get(), {SyncType::Ready, ""}).has_value());
  auto a = recv_sync(pair->parent.get());
  auto b = recv_sync(pair->parent.get());
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->type, SyncType::Error);
  EXPECT_EQ(a->detail, "first");
  EXPECT_EQ(b->type, SyncType::Ready);
  pair->child.reset();
  auto eof = recv_sync(pair->parent.get());
  ASSERT_FALSE(eof.has_value());
  EXPECT_EQ(eof.error().code(), base::ErrorCode::Unavailable);
}

TEST(SyncTest, SendToAClosedPeerFailsWithoutSigpipe) {
  auto pair = make_sync_pair();
  ASSERT_TRUE(pair.has_value());
  pair->parent.reset();
  auto r = send_sync(pair->child.get(), {SyncType::Ready, ""});
  EXPECT_FALSE(r.has_value());
}

}  // namespace
}  // namespace mydocker::runtime::process
