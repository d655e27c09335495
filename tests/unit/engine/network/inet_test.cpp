// SPDX-License-Identifier: Apache-2.0
#include "engine/network/inet.h"

#include <gtest/gtest.h>

namespace mydocker::engine::network::kernel {
namespace {

TEST(Ipv4AddrTest, ParsesDottedQuadsOnly) {
  struct Row {
    const char* text;
    bool ok;
  };
  for (const Row& row : std::initializer_list<Row>{{"0.0.0.0", true},
                                                   {"172.17.0.1", true},
                                                   {"255.255.255.255", true},
                                                   {"256.0.0.1", false},
                                                   {"1.2.3", false},
                                                   {"1.2.3.4.5", false},
                                                   {"01.2.3.4", false},
                                                   {"1.2.3.-4", false},
                                                   {"1.2.3.4 ", false},
                                                   {"", false},
                                                   {"a.b.c.d", false},
                                                   {"1..3.4", false}}) {
    auto a = Ipv4Addr::parse(row.text);
    EXPECT_EQ(a.has_value(), row.ok) << row.text;
    if (a) {
      EXPECT_EQ(a->to_string(), row.text);
    } else {
      EXPECT_EQ(a.error().code(), base::ErrorCode::InvalidArgument);
    }
  }
}

TEST(Ipv4AddrTest, U32RoundTrips) {
  auto a = *Ipv4Addr::parse("172.18.0.2");
  EXPECT_EQ(a.to_u32(), 0xac120002u);
  EXPECT_EQ(Ipv4Addr::from_u32(0xac120002u), a);
  EXPECT_TRUE(Ipv4Addr{}.is_unspecified());
}

TEST(Ipv4NetTest, ParsesAndMasks) {
  auto n = Ipv4Net::parse("172.18.5.9/16");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->prefix, 16);
  EXPECT_EQ(n->network().to_string(), "172.18.0.0/16");
  EXPECT_TRUE(n->contains(*Ipv4Addr::parse("172.18.255.1")));
  EXPECT_FALSE(n->contains(*Ipv4Addr::parse("172.19.0.1")));
  EXPECT_EQ(Ipv4Net::parse("0.0.0.0/0")->network().to_string(), "0.0.0.0/0");
  EXPECT_EQ(Ipv4Net::parse("10.1.2.3/32")->network().to_string(), "10.1.2.3/32");
  for (const char* bad : {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0/8",
                          "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.0/008"}) {
    EXPECT_FALSE(Ipv4Net::parse(bad)) << bad;
  }
}

TEST(MacAddrTest, ParsesAndDerivesFromIp) {
  auto m = MacAddr::parse("02:42:AC:11:00:02");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->to_string(), "02:42:ac:11:00:02");
  EXPECT_EQ(mac_from_ip(*Ipv4Addr::parse("172.17.0.2")), *m);
  for (const char* bad : {"02:42:ac:11:00", "02:42:ac:11:00:02:03", "0242ac110002",
                          "02:42:ac:11:00:2", "02:42:ac:11:00:zz"}) {
    EXPECT_FALSE(MacAddr::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace mydocker::engine::network::kernel
