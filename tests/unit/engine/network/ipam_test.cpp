// SPDX-License-Identifier: Apache-2.0
#include "engine/network/ipam.h"

#include <gtest/gtest.h>

namespace mydocker::engine::network {
namespace {

Prefix cidr(const char* text) {
  auto p = parse_cidr(text);
  EXPECT_TRUE(p) << text;
  return p.value_or(Prefix{});
}

Ipv4 ip(const char* text) {
  auto v = parse_ipv4(text);
  EXPECT_TRUE(v) << text;
  return v.value_or(0);
}

TEST(Ipv4Parse, Table) {
  struct Row {
    const char* text;
    bool ok;
  };
  for (const Row& r : {Row{"172.17.0.1", true}, Row{"0.0.0.0", true}, Row{"255.255.255.255", true},
                       Row{"256.1.1.1", false}, Row{"1.2.3", false}, Row{"1.2.3.4.5", false},
                       Row{"01.2.3.4", false}, Row{"a.b.c.d", false}, Row{"", false},
                       Row{"1..2.3", false}, Row{"::1", false}}) {
    EXPECT_EQ(parse_ipv4(r.text).has_value(), r.ok) << r.text;
  }
  EXPECT_EQ(format_ipv4(ip("192.168.208.1")), "192.168.208.1");
  EXPECT_FALSE(parse_cidr("10.0.0.0/33"));
  EXPECT_FALSE(parse_cidr("10.0.0.0"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/08"));
  EXPECT_EQ(format_cidr(cidr("10.1.2.3/16").masked()), "10.1.0.0/16");
  EXPECT_EQ(format_ipv4(cidr("10.1.2.3/16").broadcast()), "10.1.255.255");
  EXPECT_TRUE(cidr("10.0.0.0/8").overlaps(cidr("10.5.0.0/16")));
  EXPECT_TRUE(cidr("10.5.0.0/16").overlaps(cidr("10.0.0.0/8")));
  EXPECT_FALSE(cidr("10.0.0.0/16").overlaps(cidr("10.1.0.0/16")));
}

TEST(Mac, DockerDerivation) {
  EXPECT_EQ(mac_for(ip("172.17.0.2")), "02:42:ac:11:00:02");
  EXPECT_EQ(mac_for(ip("192.168.208.2")), "02:42:c0:a8:d0:02");
}

TEST(Pools, DockerDefaults) {
  auto all = expand_pools(default_address_pools());
  ASSERT_EQ(all.size(), 31u);
  EXPECT_EQ(format_cidr(all[0]), "172.17.0.0/16");
  EXPECT_EQ(format_cidr(all[14]), "172.31.0.0/16");
  EXPECT_EQ(format_cidr(all[15]), "192.168.0.0/20");
  EXPECT_EQ(format_cidr(all[28]), "192.168.208.0/20");
  EXPECT_EQ(format_cidr(all[30]), "192.168.240.0/20");
}

TEST(ChooseSubnet, SkipsNetworksAndHostRoutes) {
  auto pools = default_address_pools();
  auto s = choose_subnet(pools, {}, {});
  ASSERT_TRUE(s);
  EXPECT_EQ(format_cidr(*s), "172.17.0.0/16");
  // In use by a network, a host route inside 172.18/16, a route covering 172.19-172.23, and
  // the default route (never counts).
  s = choose_subnet(
      pools, {cidr("172.17.0.0/16")},
      {cidr("172.18.5.0/24"), cidr("172.19.0.0/16"), cidr("172.20.0.0/14"), cidr("0.0.0.0/0")});
  ASSERT_TRUE(s);
  EXPECT_EQ(format_cidr(*s), "172.24.0.0/16");
  // Everything taken.
  s = choose_subnet(pools, {cidr("172.16.0.0/12"), cidr("192.168.0.0/16")}, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), base::ErrorCode::Unavailable);
  EXPECT_EQ(s.error().message(),
            "could not find an available, non-overlapping IPv4 address pool among the defaults to "
            "assign to the network");
}

TEST(HostRoutes, ProcNetRoute) {
  std::string text =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
      "eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
      "mydocker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
      "bad\tzz\n"
      "odd\t0000000A\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0\n";
  auto routes = parse_proc_net_route(text);
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].iface, "eth0");
  EXPECT_EQ(format_cidr(routes[0].destination), "192.168.0.0/24");
  EXPECT_EQ(routes[1].iface, "mydocker0");
  EXPECT_EQ(format_cidr(routes[1].destination), "172.17.0.0/16");
}

TEST(ValidateIpam, DockerErrors) {
  struct Row {
    IpamConfig config;
    const char* error;  // "" when valid
  };
  std::vector<Row> rows = {
      {{"10.1.0.0/16", "", "", {}}, ""},
      {{"10.1.0.0/16", "10.1.2.0/24", "10.1.0.254", {{"host", "10.1.0.5"}}}, ""},
      {{"fd00::/64", "", "", {}}, ""},  // IPv6 ignored without EnableIPv6
      {{"foo", "", "", {}},
       "invalid network config:\ninvalid subnet foo: invalid CIDR block notation"},
      {{"10.1.2.3/16", "", "", {}},
       "invalid network config:\ninvalid subnet 10.1.2.3/16: it should be 10.1.0.0/16"},
      {{"10.1.0.0/16", "", "10.2.0.1", {}},
       "invalid network config:\ninvalid gateway 10.2.0.1: parent subnet 10.1.0.0/16 doesn't "
       "contain this address"},
      {{"10.1.0.0/16", "", "bogus", {}},
       "invalid network config:\ninvalid gateway bogus: invalid address"},
      {{"10.1.0.0/16", "10.2.0.0/24", "", {}},
       "invalid network config:\ninvalid ip-range 10.2.0.0/24: parent subnet 10.1.0.0/16 doesn't "
       "contain ip-range"},
      {{"10.1.0.0/16", "10.0.0.0/8", "", {}},
       "invalid network config:\ninvalid ip-range 10.0.0.0/8: CIDR block is bigger than its "
       "parent subnet 10.1.0.0/16"},
      {{"10.1.0.0/16", "", "", {{"a", "10.3.0.1"}}},
       "invalid network config:\ninvalid auxiliary address a: parent subnet 10.1.0.0/16 doesn't "
       "contain this address"},
  };
  for (const auto& r : rows) {
    auto v = validate_ipam({r.config});
    if (std::string(r.error).empty()) {
      EXPECT_TRUE(v) << r.config.subnet << ": " << v.error().message();
    } else {
      ASSERT_FALSE(v) << r.config.subnet;
      EXPECT_EQ(v.error().code(), base::ErrorCode::InvalidArgument);
      EXPECT_EQ(v.error().message(), r.error);
    }
  }
  auto two = validate_ipam({{"foo", "", "", {}}, {"10.1.2.3/16", "", "", {}}});
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().message(),
            "invalid network config:\n* invalid subnet foo: invalid CIDR block notation\n* invalid "
            "subnet 10.1.2.3/16: it should be 10.1.0.0/16");
}

TEST(AddressPool, GatewayFirstThenSequentialAndRelease) {
  auto pool = AddressPool::create(cidr("172.17.0.0/16"), std::nullopt, std::nullopt);
  ASSERT_TRUE(pool);
  EXPECT_EQ(format_ipv4(pool->gateway()), "172.17.0.1");
  EXPECT_EQ(format_ipv4(*pool->allocate()), "172.17.0.2");
  EXPECT_EQ(format_ipv4(*pool->allocate()), "172.17.0.3");
  EXPECT_EQ(format_ipv4(*pool->allocate()), "172.17.0.4");
  ASSERT_TRUE(pool->release(ip("172.17.0.3")));
  EXPECT_FALSE(pool->release(ip("172.17.0.3")));
  EXPECT_EQ(format_ipv4(*pool->allocate()), "172.17.0.3");  // lowest free again
  auto taken = pool->allocate(ip("172.17.0.2"));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code(), base::ErrorCode::PermissionDenied);
  EXPECT_EQ(taken.error().message(), "Address already in use");
  EXPECT_FALSE(pool->allocate(ip("172.17.0.1")));  // the gateway
  EXPECT_FALSE(pool->allocate(ip("172.17.255.255")));
  EXPECT_FALSE(pool->allocate(ip("172.18.0.9")));
  EXPECT_EQ(format_ipv4(*pool->allocate(ip("172.17.9.9"))), "172.17.9.9");
}

TEST(AddressPool, RangeGatewayReservedAndExhaustion) {
  auto pool =
      AddressPool::create(cidr("10.9.0.0/29"), std::nullopt, ip("10.9.0.6"), {ip("10.9.0.1")});
  ASSERT_TRUE(pool);
  // .0 network, .1 reserved, .6 gateway, .7 broadcast: .2 .3 .4 .5 left.
  for (const char* want : {"10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5"}) {
    auto a = pool->allocate();
    ASSERT_TRUE(a);
    EXPECT_EQ(format_ipv4(*a), want);
  }
  auto full = pool->allocate();
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code(), base::ErrorCode::Unavailable);

  auto ranged = AddressPool::create(cidr("10.5.0.0/16"), cidr("10.5.1.0/30"), ip("10.5.0.1"));
  ASSERT_TRUE(ranged);
  EXPECT_EQ(format_ipv4(*ranged->allocate()), "10.5.1.0");
  EXPECT_EQ(format_ipv4(*ranged->allocate()), "10.5.1.1");
  // An explicit address outside the range but inside the subnet is honoured (Docker's --ip).
  EXPECT_TRUE(ranged->allocate(ip("10.5.3.3")));
  EXPECT_FALSE(AddressPool::create(cidr("10.5.0.0/16"), std::nullopt, ip("10.6.0.1")));
}

TEST(AddressPool, JsonRoundTrip) {
  auto pool = AddressPool::create(cidr("192.168.208.0/20"), std::nullopt, std::nullopt,
                                  {ip("192.168.208.9")});
  ASSERT_TRUE(pool);
  ASSERT_TRUE(pool->allocate());
  ASSERT_TRUE(pool->allocate(ip("192.168.210.7")));
  auto back = AddressPool::from_json(nlohmann::json::parse(pool->to_json().dump()));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->subnet(), pool->subnet());
  EXPECT_EQ(back->gateway(), pool->gateway());
  EXPECT_EQ(back->allocated(), pool->allocated());
  EXPECT_EQ(format_ipv4(*back->allocate()), "192.168.208.3");
  EXPECT_FALSE(back->allocate(ip("192.168.208.9")));  // still reserved
  EXPECT_FALSE(AddressPool::from_json(nlohmann::json::parse(R"({"subnet":"x"})")));
  EXPECT_FALSE(AddressPool::from_json(nlohmann::json::parse("[]")));
}

}  // namespace
}  // namespace mydocker::engine::network
