// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "engine/network/endpoint.h"

namespace mydocker::engine::network::kernel {
namespace {

TEST(EndpointPlanTest, VethNameIsDockersShapeAndStable) {
  std::string a = veth_name("3f9a1c0d2e");
  EXPECT_EQ(a.size(), 11u);  // "veth" + 7 hex: fits IFNAMSIZ with room to spare
  EXPECT_EQ(a.rfind("veth", 0), 0u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef", 4), std::string::npos) << a;
  EXPECT_EQ(veth_name("3f9a1c0d2e"), a);
  EXPECT_NE(veth_name("3f9a1c0d2f"), a);
  // FNV-1a of "" is 0xcbf29ce484222325: pins the hash, so names survive a rebuild.
  EXPECT_EQ(veth_name(""), "veth4222325");
}

TEST(EndpointPlanTest, MacFollowsTheAddressUnlessGiven) {
  EndpointRequest req;
  req.endpoint_id = "ep";
  req.bridge = "mydocker0";
  req.address = *Ipv4Net::parse("172.17.0.5/16");
  req.gateway = *Ipv4Addr::parse("172.17.0.1");
  req.mtu = 1400;
  EndpointPlan plan = plan_endpoint(req);
  EXPECT_EQ(plan.host_veth, veth_name("ep"));
  EXPECT_EQ(plan.ifname, "eth0");
  EXPECT_EQ(plan.bridge, "mydocker0");
  EXPECT_EQ(plan.mac.to_string(), "02:42:ac:11:00:05");
  EXPECT_EQ(plan.mtu, 1400u);
  ASSERT_TRUE(plan.gateway);
  EXPECT_EQ(plan.gateway->to_string(), "172.17.0.1");

  req.mac = *MacAddr::parse("aa:bb:cc:dd:ee:ff");
  req.ifname = "eth1";
  plan = plan_endpoint(req);
  EXPECT_EQ(plan.mac.to_string(), "aa:bb:cc:dd:ee:ff");
  EXPECT_EQ(plan.ifname, "eth1");
}

}  // namespace
}  // namespace mydocker::engine::network::kernel
