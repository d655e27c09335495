// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "engine/network/firewall.h"

namespace mydocker::engine::network::kernel {
namespace {

Ipv4Addr ip(const char* text) {
  return *Ipv4Addr::parse(text);
}

bool has(const std::string& script, const std::string& line) {
  return script.find(line) != std::string::npos;
}

TEST(FirewallRenderTest, EmptyStateIsABareTableReplacingTheOldOne) {
  auto s = render_table("mydocker", FirewallState{});
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->rfind("add table ip mydocker\ndelete table ip mydocker\ntable ip mydocker {\n", 0),
            0u)
      << *s;
  EXPECT_FALSE(has(*s, "elements"));
  EXPECT_TRUE(has(*s, "type nat hook output priority -100; policy accept;"));
  EXPECT_TRUE(has(*s, "fib daddr type local jump published"));
  EXPECT_TRUE(has(*s, "type filter hook forward priority filter; policy accept;"));
  EXPECT_FALSE(has(*s, "masquerade"));
}

TEST(FirewallRenderTest, NetworksGetIsolationNatAndForwardRules) {
  FirewallState st;
  st.networks = {{"mydocker0", *Ipv4Net::parse("172.17.0.0/16"), true, false},
                 {"br-1", *Ipv4Net::parse("172.18.0.1/16"), false, false},
                 {"br-int", *Ipv4Net::parse("172.19.0.0/16"), true, true}};
  auto s = render_table("mydocker", st);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_TRUE(has(*s, "elements = { \"mydocker0\", \"br-1\", \"br-int\" }")) << *s;
  EXPECT_TRUE(has(*s, "iifname \"mydocker0\" oifname != \"mydocker0\" oifname @bridges drop"));
  EXPECT_TRUE(has(*s, "oifname \"mydocker0\" ip saddr 127.0.0.0/8 masquerade"));
  EXPECT_TRUE(has(*s, "oifname \"mydocker0\" ip saddr 172.17.0.0/16 ct status dnat masquerade"));
  EXPECT_TRUE(has(*s, "oifname != \"mydocker0\" ip saddr 172.17.0.0/16 masquerade"));
  // The subnet is rendered as a network even when given with host bits.
  EXPECT_TRUE(has(*s, "ip saddr 172.18.0.0/16 ct status dnat masquerade"));
  // masquerade=false: no outbound NAT for br-1.
  EXPECT_FALSE(has(*s, "oifname != \"br-1\" ip saddr 172.18.0.0/16 masquerade"));
  // internal: no outbound NAT, drops both ways.
  EXPECT_FALSE(has(*s, "oifname != \"br-int\" ip saddr 172.19.0.0/16 masquerade"));
  EXPECT_TRUE(has(*s, "iifname \"br-int\" oifname != \"br-int\" drop"));
  EXPECT_TRUE(has(*s, "oifname \"br-int\" iifname != \"br-int\" drop"));
  // Every isolation drop comes before the first accept.
  auto last_isolation = s->rfind("oifname @bridges drop");
  auto first_accept = s->find("ct state established,related accept");
  EXPECT_LT(last_isolation, first_accept);
}

TEST(FirewallRenderTest, PortsGoToTheMapOfTheirHostAddress) {
  FirewallState st;
  st.ports["c1"] = {{Proto::Tcp, Ipv4Addr{}, 8080, ip("172.17.0.2"), 80},
                    {Proto::Udp, ip("127.0.0.1"), 5353, ip("172.17.0.2"), 53}};
  auto s = render_table("mydocker", st);
  ASSERT_TRUE(s);
  EXPECT_TRUE(has(*s, "elements = { tcp . 8080 : 172.17.0.2 . 80 }")) << *s;
  EXPECT_TRUE(has(*s, "elements = { 127.0.0.1 . udp . 5353 : 172.17.0.2 . 53 }")) << *s;

  auto add = render_add_ports("mydocker", st.ports["c1"]);
  ASSERT_TRUE(add);
  EXPECT_EQ(*add,
            "add element ip mydocker ports_any { tcp . 8080 : 172.17.0.2 . 80 }\n"
            "add element ip mydocker ports_ip { 127.0.0.1 . udp . 5353 : 172.17.0.2 . 53 }\n");
  auto del = render_delete_ports("mydocker", st.ports["c1"]);
  ASSERT_TRUE(del);
  EXPECT_EQ(*del,
            "delete element ip mydocker ports_any { tcp . 8080 }\n"
            "delete element ip mydocker ports_ip { 127.0.0.1 . udp . 5353 }\n");
}

TEST(FirewallRenderTest, RefusesNamesNftCouldMisread) {
  FirewallState st;
  st.networks = {{"br\" accept", *Ipv4Net::parse("10.0.0.0/8"), true, false}};
  auto s = render_table("mydocker", st);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), base::ErrorCode::InvalidArgument);
  for (const char* bad : {"", "my docker", "1table", "t;flush ruleset"}) {
    EXPECT_FALSE(render_table(bad, FirewallState{})) << bad;
  }
  EXPECT_FALSE(render_add_ports("mydocker", {{Proto::Tcp, Ipv4Addr{}, 0, ip("10.0.0.2"), 80}}));
}

}  // namespace
}  // namespace mydocker::engine::network::kernel
