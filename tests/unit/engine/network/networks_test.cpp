// SPDX-License-Identifier: Apache-2.0
// The network store against dockerd's transcripts 223-244: IDs and times come from the test
// seams, so the JSON is compared byte for byte with what dockerd sent.
#include "engine/network/networks.h"

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::engine::network {
namespace {

using base::ErrorCode;

constexpr const char* kBridgeId =
    "0b2b215857a3cb516886e960416ce8f8f565421817feccaf6c6302843be6a892";
constexpr const char* kNoneId = "d4c43a569bbfa9328f71a823d0c3c9af33c8e16b26f35749ed0ae5d072984d2e";
constexpr const char* kHostId = "710db33d8842b77c4fbfbd32fa56ef550f13ca1dfdea48986748bf1058ea11bd";
constexpr const char* kNetId = "d2f19b8d792ed345a2ba7954323251348c9f0950c30106deca2d149517b6097a";
constexpr const char* kNet2Id = "1d17611cc20f12bc32136fbec6b2ee6aeacc92b4f707ba99a08f61d6120a8431";
constexpr const char* kNetcId = "f3ecac3d34848f7308516d0768c3c83c0fd7ecb3543ff52100d2ca284979989a";
constexpr const char* kEpId = "941ce0a03e6ad0ac0e8f4de3f3915ae5183bef82cfd7ccdca79ceb8ba23fed2e";

// Transcript 223's bridge (list form) and 230/233's tx-net.
constexpr const char* kBridgeJson =
    R"({"Name":"bridge","Id":"0b2b215857a3cb516886e960416ce8f8f565421817feccaf6c6302843be6a892","Created":"2026-11-29T17:11:39.893359659Z","Scope":"local","Driver":"bridge","EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"172.17.0.0/16"}]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{},"Options":{"com.docker.network.bridge.default_bridge":"true","com.docker.network.bridge.enable_icc":"true","com.docker.network.bridge.enable_ip_masquerade":"true","com.docker.network.bridge.host_binding_ipv4":"0.0.0.0","com.docker.network.bridge.name":"docker0","com.docker.network.driver.mtu":"1500"},"Labels":{}})";
constexpr const char* kNoneJson =
    R"({"Name":"none","Id":"d4c43a569bbfa9328f71a823d0c3c9af33c8e16b26f35749ed0ae5d072984d2e","Created":"2026-11-29T17:11:39.868934214Z","Scope":"local","Driver":"null","EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":[]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{},"Options":{},"Labels":{}})";
constexpr const char* kHostJson =
    R"({"Name":"host","Id":"710db33d8842b77c4fbfbd32fa56ef550f13ca1dfdea48986748bf1058ea11bd","Created":"2026-11-29T17:11:39.876473719Z","Scope":"local","Driver":"host","EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":[]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{},"Options":{},"Labels":{}})";
constexpr const char* kNetJson =
    R"({"Name":"tx-net","Id":"d2f19b8d792ed345a2ba7954323251348c9f0950c30106deca2d149517b6097a","Created":"2026-11-29T18:26:37.660767062Z","Scope":"local","Driver":"bridge","EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"192.168.208.0/20","Gateway":"192.168.208.1"}]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{},"Options":{},"Labels":{"tx":"1"}})";
constexpr const char* kNetWithContainerJson =
    R"({"Name":"tx-net","Id":"d2f19b8d792ed345a2ba7954323251348c9f0950c30106deca2d149517b6097a","Created":"2026-11-29T18:26:37.660767062Z","Scope":"local","Driver":"bridge","EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"192.168.208.0/20","Gateway":"192.168.208.1"}]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{"f3ecac3d34848f7308516d0768c3c83c0fd7ecb3543ff52100d2ca284979989a":{"Name":"tx-netc","EndpointID":"941ce0a03e6ad0ac0e8f4de3f3915ae5183bef82cfd7ccdca79ceb8ba23fed2e","MacAddress":"02:42:c0:a8:d0:02","IPv4Address":"192.168.208.2/20","IPv6Address":""}},"Options":{},"Labels":{"tx":"1"}})";

Prefix cidr(const char* text) {
  return *parse_cidr(text);
}

// Routes that leave 192.168.208.0/20 as the first free default pool, as on the recording host.
std::vector<Prefix> busy_routes() {
  return {cidr("172.18.0.0/15"),  cidr("172.20.0.0/14"),    cidr("172.24.0.0/13"),
          cidr("192.168.0.0/17"), cidr("192.168.128.0/18"), cidr("192.168.192.0/20")};
}

class NetworkStoreTest : public ::testing::Test {
 protected:
  StoreOptions options() {
    StoreOptions o;
    o.root = tmp_.path() + "/network";
    o.default_bridge = "docker0";
    o.new_id = [this] {
      if (ids_.empty()) {
        return random_id();
      }
      std::string id = ids_.front();
      ids_.pop_front();
      return id;
    };
    o.now = [this] {
      if (times_.empty()) {
        return std::string("2026-11-29T19:00:00.000000001Z");
      }
      std::string t = times_.front();
      times_.pop_front();
      return t;
    };
    o.now_unix = [] { return int64_t{1796000000}; };
    return o;
  }
  std::unique_ptr<NetworkStore> open_store() {
    auto s = NetworkStore::open(options(), {});
    EXPECT_TRUE(s) << s.error().message();
    return s ? std::move(*s) : nullptr;
  }
  // The predefined networks with transcript 223's IDs and times.
  std::unique_ptr<NetworkStore> open_transcript_store() {
    ids_ = {kBridgeId, kNoneId, kHostId};
    times_ = {"2026-11-29T17:11:39.893359659Z", "2026-11-29T17:11:39.868934214Z",
              "2026-11-29T17:11:39.876473719Z"};
    return open_store();
  }
  std::string create_tx_net(NetworkStore& s) {
    ids_ = {kNetId};
    times_ = {"2026-11-29T18:26:37.660767062Z"};
    CreateRequest req;
    req.name = "tx-net";
    req.check_duplicate = true;
    req.labels = {{"tx", "1"}};
    auto r = s.create(req, busy_routes());
    EXPECT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->warning, "");
    return r ? r->id : "";
  }

  mydocker::testing::TempDir tmp_;
  std::deque<std::string> ids_;
  std::deque<std::string> times_;
};

TEST_F(NetworkStoreTest, PredefinedNetworksAsDockerListsThem) {
  auto s = open_transcript_store();
  ASSERT_TRUE(s);
  auto all = s->all();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(to_docker_json(all[0], false).dump(), kBridgeJson);
  EXPECT_EQ(to_docker_json(all[1], false).dump(), kNoneJson);
  EXPECT_EQ(to_docker_json(all[2], false).dump(), kHostJson);
  EXPECT_EQ(all[0].bridge_name(), "docker0");
  EXPECT_EQ(format_ipv4(all[0].pool->gateway()), "172.17.0.1");
  EXPECT_TRUE(all[0].predefined());
  EXPECT_TRUE(all[1].predefined());
  EXPECT_TRUE(all[2].predefined());
}

TEST_F(NetworkStoreTest, DefaultBridgeAvoidsHostRoutesAndHonoursBip) {
  auto o = options();
  auto s = NetworkStore::open(o, {cidr("172.17.0.0/16"), cidr("0.0.0.0/0")});
  ASSERT_TRUE(s);
  auto bridge = (*s)->find("bridge");
  ASSERT_TRUE(bridge);
  EXPECT_EQ(bridge->ipam_config.at(0).subnet, "172.18.0.0/16");

  mydocker::testing::TempDir other;
  o.root = other.path() + "/network";
  o.default_bridge_subnet = "10.200.0.1/24";
  auto s2 = NetworkStore::open(o, {});
  ASSERT_TRUE(s2);
  auto b2 = (*s2)->find("bridge");
  ASSERT_TRUE(b2);
  EXPECT_EQ(b2->ipam_config.at(0).subnet, "10.200.0.0/24");
  EXPECT_EQ(format_ipv4(b2->pool->gateway()), "10.200.0.1");
}

TEST_F(NetworkStoreTest, TranscriptSequence) {
  auto s = open_transcript_store();
  ASSERT_TRUE(s);
  // 225, 230.
  std::string id = create_tx_net(*s);
  ASSERT_EQ(id, kNetId);
  auto net = s->find("tx-net");
  ASSERT_TRUE(net);
  EXPECT_EQ(to_docker_json(*net, true).dump(), kNetJson);
  EXPECT_EQ(net->bridge_name(), "br-d2f19b8d792e");

  // 231, 233.
  ids_ = {kEpId};
  EndpointRequest ep_req;
  ep_req.aliases = {"tx-alias"};
  auto ep = s->connect("tx-net", kNetcId, "/tx-netc", ep_req);
  ASSERT_TRUE(ep) << ep.error().message();
  EXPECT_EQ(ep->ipv4_address, "192.168.208.2/20");
  EXPECT_EQ(ep->mac_address, "02:42:c0:a8:d0:02");
  EXPECT_EQ(to_docker_json(*s->find("tx-net"), true).dump(), kNetWithContainerJson);
  // The list form never carries Containers (223 lists the bridge with {}).
  EXPECT_EQ(to_docker_json(*s->find("tx-net"), false).dump(), kNetJson);

  // 232: connect again.
  auto again = s->connect("tx-net", kNetcId, "tx-netc", {});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::PermissionDenied);
  EXPECT_EQ(again.error().message(), "endpoint with name tx-netc already exists in network tx-net");

  // 234: remove in use.
  auto in_use = s->remove("tx-net");
  ASSERT_FALSE(in_use);
  EXPECT_EQ(in_use.error().code(), ErrorCode::PermissionDenied);
  EXPECT_EQ(
      in_use.error().message(),
      "error while removing network: network tx-net id "
      "d2f19b8d792ed345a2ba7954323251348c9f0950c30106deca2d149517b6097a has active endpoints");

  // 235, 236.
  auto gone = s->disconnect("tx-net", kNetcId);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->endpoint_id, kEpId);
  auto not_connected = s->disconnect("tx-net", kNetcId);
  ASSERT_FALSE(not_connected);
  EXPECT_EQ(not_connected.error().code(), ErrorCode::Internal);
  EXPECT_EQ(not_connected.error().message(),
            "container f3ecac3d34848f7308516d0768c3c83c0fd7ecb3543ff52100d2ca284979989a is not "
            "connected to network tx-net");

  // 238, 239, 240.
  auto removed = s->remove("tx-net");
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->id, kNetId);
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() + "/network/" + kNetId + ".json"));
  auto unknown = s->remove("tx-net");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::NotFound);
  EXPECT_EQ(unknown.error().message(), "network tx-net not found");
  EXPECT_EQ(s->find("tx-nosuch").error().message(), "network tx-nosuch not found");

  // 241.
  auto predefined = s->remove("bridge");
  ASSERT_FALSE(predefined);
  EXPECT_EQ(predefined.error().code(), ErrorCode::PermissionDenied);
  EXPECT_EQ(predefined.error().message(), "bridge is a pre-defined network and cannot be removed");
  EXPECT_EQ(s->remove("host").error().message(),
            "host is a pre-defined network and cannot be removed");
}

TEST_F(NetworkStoreTest, EndpointSettingsAsContainerInspectShowsThem) {
  auto s = open_transcript_store();
  ASSERT_TRUE(s);
  const std::string c1 = "4850cc3221be21fdfed941117e58be884a83ed1d425c1b52a39d8325fb33273f";
  ids_ = {"419939103c478b2fdde2fcc7c621edf4e80930b9997c791489fbfac7d280ff9d"};
  auto ep = s->connect("bridge", c1, "/tx-c1", {});
  ASSERT_TRUE(ep);
  // Transcript 068, NetworkSettings.Networks.bridge of a running container.
  EXPECT_EQ(
      endpoint_settings_json(*s->find("bridge"), &*ep, {}, c1).dump(),
      R"({"IPAMConfig":null,"Links":null,"Aliases":null,"NetworkID":"0b2b215857a3cb516886e960416ce8f8f565421817feccaf6c6302843be6a892","EndpointID":"419939103c478b2fdde2fcc7c621edf4e80930b9997c791489fbfac7d280ff9d","Gateway":"172.17.0.1","IPAddress":"172.17.0.2","IPPrefixLen":16,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"MacAddress":"02:42:ac:11:00:02","DriverOpts":null})");
  // Transcript 253: a stopped container (no endpoint).
  EXPECT_EQ(
      endpoint_settings_json(*s->find("bridge"), nullptr, {}, c1).dump(),
      R"({"IPAMConfig":null,"Links":null,"Aliases":null,"NetworkID":"0b2b215857a3cb516886e960416ce8f8f565421817feccaf6c6302843be6a892","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"MacAddress":"","DriverOpts":null})");
  // A user network: the requested address and aliases, the short ID added.
  create_tx_net(*s);
  EndpointRequest req;
  req.aliases = {"tx-alias"};
  auto uep = s->connect("tx-net", kNetcId, "tx-netc", req);
  ASSERT_TRUE(uep);
  auto j = endpoint_settings_json(*s->find("tx-net"), &*uep, req, kNetcId);
  EXPECT_EQ(j["Aliases"].dump(), R"(["tx-alias","f3ecac3d3484"])");
  EXPECT_EQ(j["Gateway"], "192.168.208.1");
  EXPECT_EQ(j["IPPrefixLen"], 20);
}

TEST_F(NetworkStoreTest, DuplicatesAndAmbiguity) {
  auto s = open_transcript_store();
  ASSERT_TRUE(s);
  create_tx_net(*s);
  // 226.
  CreateRequest dup;
  dup.name = "tx-net";
  dup.check_duplicate = true;
  auto r = s->create(dup, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::AlreadyExists);
  EXPECT_EQ(r.error().message(), "network with name tx-net already exists");
  // 227.
  dup.check_duplicate = false;
  ids_ = {kNet2Id};
  r = s->create(dup, {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->id, kNet2Id);
  EXPECT_EQ(r->warning,
            "Network with name tx-net (id : "
            "d2f19b8d792ed345a2ba7954323251348c9f0950c30106deca2d149517b6097a) already exists");
  // The two got different subnets.
  EXPECT_NE(s->find(kNetId)->pool->subnet(), s->find(kNet2Id)->pool->subnet());
  // 228.
  auto amb = s->find("tx-net");
  ASSERT_FALSE(amb);
  EXPECT_EQ(amb.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(amb.error().message(), "2 matches found based on name: network tx-net is ambiguous");
  // Full IDs and unique prefixes still work; a shared prefix is ambiguous.
  EXPECT_TRUE(s->find(kNetId));
  EXPECT_EQ(s->find("d2f1")->id, kNetId);
  EXPECT_EQ(s->find("1d1")->id, kNet2Id);
  auto by_d = s->list({{"id", {"^d"}}});
  ASSERT_TRUE(by_d);
  EXPECT_EQ(by_d->size(), 2u);
}

TEST_F(NetworkStoreTest, AmbiguousPrefixWording) {
  auto s = open_transcript_store();
  ASSERT_TRUE(s);
  create_tx_net(*s);  // d2f1..., and none is d4c4...
  auto amb = s->find("d");
  ASSERT_FALSE(amb);
  EXPECT_EQ(amb.error().message(), "2 matches found based on ID prefix: network d is ambiguous");
}

TEST_F(NetworkStoreTest, CreateRefusals) {
  auto s = open_store();
  ASSERT_TRUE(s);
  auto refuse = [&](CreateRequest req, const std::vector<Prefix>& routes, ErrorCode code,
                    const std::string& message) {
    auto r = s->create(req, routes);
    ASSERT_FALSE(r) << req.name;
    EXPECT_EQ(r.error().code(), code) << req.name;
    EXPECT_EQ(r.error().message(), message);
  };
  CreateRequest bad_driver;
  bad_driver.name = "tx-net-bad";
  bad_driver.driver = "nosuchdriver";
  refuse(bad_driver, {}, ErrorCode::NotFound, "plugin \"nosuchdriver\" not found");  // 229
  CreateRequest host;
  host.name = "h2";
  host.driver = "host";
  refuse(host, {}, ErrorCode::PermissionDenied, "only one instance of \"host\" network is allowed");
  CreateRequest named_bridge;
  named_bridge.name = "bridge";
  refuse(named_bridge, {}, ErrorCode::PermissionDenied,
         "bridge is a pre-defined network and cannot be created");
  CreateRequest bad_cidr;
  bad_cidr.name = "n";
  bad_cidr.ipam_config = {{"10.0.0.0/33", "", "", {}}};
  refuse(bad_cidr, {}, ErrorCode::InvalidArgument,
         "invalid network config:\ninvalid subnet 10.0.0.0/33: invalid CIDR block notation");
  CreateRequest gw;
  gw.name = "n";
  gw.ipam_config = {{"10.10.0.0/16", "", "10.11.0.1", {}}};
  refuse(gw, {}, ErrorCode::InvalidArgument,
         "invalid network config:\ninvalid gateway 10.11.0.1: parent subnet 10.10.0.0/16 doesn't "
         "contain this address");
  CreateRequest route;
  route.name = "n";
  route.ipam_config = {{"10.10.0.0/16", "", "", {}}};
  refuse(route, {cidr("10.10.5.0/24")}, ErrorCode::PermissionDenied,
         "subnet 10.10.0.0/16 overlaps with host route 10.10.5.0/24");

  CreateRequest ok = route;
  ASSERT_TRUE(s->create(ok, {cidr("0.0.0.0/0")}));
  CreateRequest overlap;
  overlap.name = "n2";
  overlap.ipam_config = {{"10.10.128.0/17", "", "", {}}};
  refuse(overlap, {}, ErrorCode::PermissionDenied,
         "Pool overlaps with other one on this address space");
  CreateRequest bridge_overlap;
  bridge_overlap.name = "n3";
  bridge_overlap.ipam_config = {{"172.16.0.0/12", "", "", {}}};
  refuse(bridge_overlap, {}, ErrorCode::PermissionDenied,
         "Pool overlaps with other one on this address space");
  // Nothing was written for the refused ones: bridge, none, host, n.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp_.path() + "/network")) {
    files += e.path().extension() == ".json" ? 1 : 0;
  }
  EXPECT_EQ(files, 4u);
}

TEST_F(NetworkStoreTest, UserSubnetShowsAsGivenAndHonoursIp) {
  auto s = open_store();
  ASSERT_TRUE(s);
  CreateRequest req;
  req.name = "fixed";
  req.ipam_options = std::map<std::string, std::string>{};
  req.ipam_config = {{"10.20.0.0/16", "10.20.5.0/24", "10.20.0.254", {{"printer", "10.20.5.1"}}}};
  req.options = {{kOptBridgeName, "fixedbr0"}};
  auto r = s->create(req, {});
  ASSERT_TRUE(r) << r.error().message();
  auto n = s->find("fixed");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->bridge_name(), "fixedbr0");
  auto j = to_docker_json(*n, true);
  EXPECT_EQ(
      j["IPAM"].dump(),
      R"({"Driver":"default","Options":{},"Config":[{"Subnet":"10.20.0.0/16","IPRange":"10.20.5.0/24","Gateway":"10.20.0.254","AuxiliaryAddresses":{"printer":"10.20.5.1"}}]})");
  auto a = s->connect("fixed", std::string(64, 'a'), "a", {});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ipv4_address, "10.20.5.0/16");  // the range's first address (.1 is reserved)
  EndpointRequest want_ip;
  want_ip.ipv4_address = "10.20.7.7";
  auto b = s->connect("fixed", std::string(64, 'b'), "b", want_ip);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->ipv4_address, "10.20.7.7/16");
  EXPECT_EQ(b->mac_address, "02:42:0a:14:07:07");
  auto c = s->connect("fixed", std::string(64, 'c'), "c", want_ip);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::PermissionDenied);
  EXPECT_EQ(c.error().message(), "Address already in use");
  // The refused connect left nothing behind.
  EXPECT_EQ(s->find("fixed")->endpoints.size(), 2u);

  // Bridge with --ip or aliases, and --ip on an automatic subnet.
  auto on_bridge = s->connect("bridge", std::string(64, 'd'), "d", want_ip);
  ASSERT_FALSE(on_bridge);
  EXPECT_EQ(on_bridge.error().message(),
            "user specified IP address is supported on user defined networks only");
  EndpointRequest alias;
  alias.aliases = {"x"};
  EXPECT_EQ(s->connect("bridge", std::string(64, 'd'), "d", alias).error().message(),
            "network-scoped alias is supported only for containers in user defined networks");
  CreateRequest automatic;
  automatic.name = "auto";
  ASSERT_TRUE(s->create(automatic, {}));
  EXPECT_EQ(s->connect("auto", std::string(64, 'd'), "d", want_ip).error().message(),
            "user specified IP address is supported only when connecting to networks with user "
            "configured subnets");
  // host and none take endpoints without addresses.
  auto h = s->connect("host", std::string(64, 'e'), "e", {});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->ipv4_address, "");
  EXPECT_EQ(h->mac_address, "");
}

TEST_F(NetworkStoreTest, ExhaustedPool) {
  auto s = open_store();
  ASSERT_TRUE(s);
  CreateRequest req;
  req.name = "tiny";
  req.ipam_config = {{"10.30.0.0/30", "", "", {}}};  // .1 gateway, .2 the only address
  auto r = s->create(req, {});
  ASSERT_TRUE(r);
  ASSERT_TRUE(s->connect("tiny", std::string(64, 'a'), "a", {}));
  auto full = s->connect("tiny", std::string(64, 'b'), "b", {});
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code(), ErrorCode::Unavailable);
  EXPECT_EQ(full.error().message(),
            "no available IPv4 addresses on this network's address pools: tiny (" + r->id + ")");
  ASSERT_TRUE(s->disconnect("tiny", "a"));  // by endpoint name
  EXPECT_TRUE(s->connect("tiny", std::string(64, 'b'), "b", {}));
}

TEST_F(NetworkStoreTest, ReopenReadsEverythingBack) {
  std::string id;
  std::vector<std::string> before;
  {
    auto s = open_transcript_store();
    ASSERT_TRUE(s);
    id = create_tx_net(*s);
    ids_ = {kEpId};
    ASSERT_TRUE(s->connect("tx-net", kNetcId, "tx-netc", {}));
    ASSERT_TRUE(s->connect("bridge", kNetcId, "tx-netc", {}));
    for (const auto& n : s->all()) {
      before.push_back(to_docker_json(n, true).dump());
    }
  }
  // A stray temp file of an interrupted write is ignored.
  ASSERT_TRUE(base::write_file_atomic(tmp_.path() + "/network/.tmp-123", "{"));
  auto s = open_store();
  ASSERT_TRUE(s);
  std::vector<std::string> after;
  for (const auto& n : s->all()) {
    after.push_back(to_docker_json(n, true).dump());
  }
  EXPECT_EQ(after, before);
  EXPECT_EQ(after.at(3), kNetWithContainerJson);
  // Allocations survived: the next address follows.
  auto next = s->connect("tx-net", std::string(64, 'b'), "b", {});
  ASSERT_TRUE(next);
  EXPECT_EQ(next->ipv4_address, "192.168.208.3/20");
  auto on_bridge = s->endpoints_of(kNetcId);
  ASSERT_EQ(on_bridge.size(), 2u);
  EXPECT_EQ(on_bridge.at("bridge").ipv4_address, "172.17.0.2/16");
  EXPECT_EQ(on_bridge.at("bridge").mac_address, "02:42:ac:11:00:02");
}

TEST_F(NetworkStoreTest, VolatileEndpointsLiveInTheEndpointRoot) {
  StoreOptions o = options();
  o.endpoint_root = tmp_.path() + "/run/network";
  std::string id;
  std::string durable;
  {
    auto s = NetworkStore::open(o, {});
    ASSERT_TRUE(s) << s.error().message();
    id = create_tx_net(**s);
    durable = *base::read_file(o.root + "/" + id + ".json");
    auto ep = (*s)->connect("tx-net", kNetcId, "tx-netc", {});
    ASSERT_TRUE(ep) << ep.error().message();
    EXPECT_EQ(ep->ipv4_address, "192.168.208.2/20");
    // The durable record is not written at connect; the volatile one is.
    EXPECT_EQ(*base::read_file(o.root + "/" + id + ".json"), durable);
    EXPECT_TRUE(base::path_exists(o.endpoint_root + "/" + id + ".json"));
  }
  {
    // A daemon crash: the endpoint and its address come back.
    auto s = NetworkStore::open(o, {});
    ASSERT_TRUE(s) << s.error().message();
    auto eps = (*s)->endpoints_of(kNetcId);
    ASSERT_EQ(eps.size(), 1u);
    EXPECT_EQ(eps.at("tx-net").ipv4_address, "192.168.208.2/20");
    auto next = (*s)->connect("tx-net", std::string(64, 'b'), "b", {});
    ASSERT_TRUE(next);
    EXPECT_EQ(next->ipv4_address, "192.168.208.3/20");
    ASSERT_TRUE((*s)->disconnect("tx-net", std::string(64, 'b')));
    ASSERT_TRUE((*s)->disconnect("tx-net", kNetcId));
    // The last endpoint gone: no volatile record left.
    EXPECT_FALSE(base::path_exists(o.endpoint_root + "/" + id + ".json"));
    ASSERT_TRUE((*s)->connect("tx-net", kNetcId, "tx-netc", {}));
  }
  // A reboot (the exec root's tmpfs emptied): no endpoint, every address free again.
  ASSERT_TRUE(base::remove_all(o.endpoint_root));
  auto s = NetworkStore::open(o, {});
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE((*s)->endpoints_of(kNetcId).empty());
  auto again = (*s)->connect("tx-net", std::string(64, 'c'), "c", {});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->ipv4_address, "192.168.208.2/20");
  // Removing the network removes its volatile record too.
  ASSERT_TRUE((*s)->disconnect("tx-net", std::string(64, 'c')));
  ASSERT_TRUE((*s)->connect("tx-net", kNetcId, "tx-netc", {}));
  ASSERT_TRUE((*s)->disconnect("tx-net", kNetcId));
  ASSERT_TRUE((*s)->remove("tx-net"));
  EXPECT_FALSE(base::path_exists(o.endpoint_root + "/" + id + ".json"));
}

TEST_F(NetworkStoreTest, CorruptRecordIsAnError) {
  ASSERT_TRUE(base::mkdir_all(tmp_.path() + "/network"));
  ASSERT_TRUE(
      base::write_file_atomic(tmp_.path() + "/network/" + std::string(64, 'f') + ".json", "{"));
  auto s = NetworkStore::open(options(), {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("malformed network record"), std::string::npos);
}

TEST_F(NetworkStoreTest, ListFilters) {
  auto s = open_transcript_store();
  ASSERT_TRUE(s);
  create_tx_net(*s);
  auto names = [&](const FilterArgs& f) {
    std::vector<std::string> out;
    auto l = s->list(f);
    EXPECT_TRUE(l) << l.error().message();
    if (l) {
      for (const auto& n : *l) {
        out.push_back(n.name);
      }
    }
    return out;
  };
  using V = std::vector<std::string>;
  // 244.
  auto by_name = s->list({{"name", {"bridge"}}});
  ASSERT_TRUE(by_name);
  ASSERT_EQ(by_name->size(), 1u);
  EXPECT_EQ(to_docker_json(by_name->at(0), false).dump(), kBridgeJson);
  EXPECT_EQ(names({}), (V{"bridge", "none", "host", "tx-net"}));
  EXPECT_EQ(names({{"name", {"tx"}}}), (V{"tx-net"}));  // substring, as Docker's regexp Match
  EXPECT_EQ(names({{"name", {"^b"}}}), (V{"bridge"}));
  EXPECT_EQ(names({{"driver", {"bridge"}}}), (V{"bridge", "tx-net"}));
  EXPECT_EQ(names({{"driver", {"null", "host"}}}), (V{"none", "host"}));
  EXPECT_EQ(names({{"type", {"custom"}}}), (V{"tx-net"}));
  EXPECT_EQ(names({{"type", {"builtin"}}}), (V{"bridge", "none", "host"}));
  EXPECT_EQ(names({{"label", {"tx"}}}), (V{"tx-net"}));
  EXPECT_EQ(names({{"label", {"tx=2"}}}), (V{}));
  EXPECT_EQ(names({{"scope", {"local"}}}).size(), 4u);
  EXPECT_EQ(names({{"scope", {"swarm"}}}), (V{}));
  EXPECT_EQ(names({{"id", {kNetId}}}), (V{"tx-net"}));
  EXPECT_EQ(names({{"dangling", {"true"}}}), (V{"tx-net"}));
  EXPECT_EQ(names({{"dangling", {"false"}}}), (V{"bridge", "none", "host"}));
  ASSERT_TRUE(s->connect("tx-net", kNetcId, "c", {}));
  EXPECT_EQ(names({{"dangling", {"1"}}}), (V{}));

  auto bad = s->list({{"nosuch", {"x"}}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(bad.error().message(), "Invalid filter 'nosuch'");
  EXPECT_EQ(s->list({{"type", {"other"}}}).error().message(), "Invalid filter: 'type'='other'");
  EXPECT_EQ(s->list({{"dangling", {"maybe"}}}).error().message(),
            "Invalid filter 'dangling=maybe'");
}

TEST_F(NetworkStoreTest, Prune) {
  auto s = open_store();
  ASSERT_TRUE(s);
  auto make = [&](const std::string& name, std::map<std::string, std::string> labels,
                  std::string created) {
    times_ = {std::move(created)};
    CreateRequest req;
    req.name = name;
    req.labels = std::move(labels);
    ASSERT_TRUE(s->create(req, {}));
  };
  make("tx-net-prune", {{"tx-prune", "1"}}, "2026-11-29T18:00:00Z");
  make("keep-labelled", {{"tx-prune", "2"}}, "2026-11-29T18:00:00Z");
  make("in-use", {{"tx-prune", "1"}}, "2026-11-29T18:00:00Z");
  make("recent", {}, "2026-11-30T12:00:00Z");
  ASSERT_TRUE(s->connect("in-use", std::string(64, 'a'), "a", {}));
  // 242, 243.
  auto p = s->prune({{"label", {"tx-prune=1"}}});
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ(p->at(0).name, "tx-net-prune");
  p = s->prune({{"label", {"tx-prune=1"}}});
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->empty());
  // until: 1796000000 is 2026-11-30T07:33:20Z; "recent" is newer.
  p = s->prune({{"until", {"1796000000"}}, {"label!", {"tx-prune=2"}}});
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->empty());
  p = s->prune({{"until", {"1h"}}});
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ(p->at(0).name, "keep-labelled");
  EXPECT_EQ(s->prune({{"until", {"soon"}}}).error().message(),
            "failed to parse value as time or duration: \"soon\"");
  EXPECT_EQ(s->prune({{"name", {"x"}}}).error().message(), "Invalid filter 'name'");
  p = s->prune({});
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ(p->at(0).name, "recent");
  EXPECT_EQ(s->all().size(), 4u);  // bridge, none, host, in-use
}

TEST_F(NetworkStoreTest, DnsLookupOnSharedUserNetworks) {
  auto s = open_store();
  ASSERT_TRUE(s);
  CreateRequest a;
  a.name = "net-a";
  a.ipam_config = {{"10.40.0.0/24", "", "", {}}};
  CreateRequest b;
  b.name = "net-b";
  b.ipam_config = {{"10.41.0.0/24", "", "", {}}};
  ASSERT_TRUE(s->create(a, {}));
  ASSERT_TRUE(s->create(b, {}));
  std::string web = "abcdef0123456789" + std::string(48, '1');
  std::string db = "fedcba9876543210" + std::string(48, '2');
  std::string other = std::string(64, '3');
  EndpointRequest alias;
  alias.aliases = {"database"};
  ASSERT_TRUE(s->connect("net-a", web, "/web", {}));
  ASSERT_TRUE(s->connect("bridge", web, "/web", {}));
  ASSERT_TRUE(s->connect("net-a", db, "/db", alias));
  ASSERT_TRUE(s->connect("net-b", other, "/other", {}));
  ASSERT_TRUE(s->connect("bridge", other, "/other", {}));

  auto found = s->lookup(web, "db");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(format_ipv4(found->at(0)), "10.40.0.3");
  EXPECT_EQ(s->lookup(web, "DATABASE."), found);
  EXPECT_EQ(s->lookup(web, "fedcba987654"), found);  // short ID
  EXPECT_FALSE(s->lookup(web, "fedcba9876543210"));  // only the 12-hex form
  EXPECT_FALSE(s->lookup(web, "other"));             // not on a shared network
  EXPECT_FALSE(s->lookup(other, "web"));             // the default bridge has no name resolution
  EXPECT_FALSE(s->lookup(web, "example.com"));
  EXPECT_EQ(s->reverse_lookup(web, *parse_ipv4("10.40.0.3")), "db.net-a");
  EXPECT_FALSE(s->reverse_lookup(web, *parse_ipv4("10.41.0.2")));
  // Live: connecting `other` to net-a makes it resolvable at once, disconnecting removes it.
  ASSERT_TRUE(s->connect("net-a", other, "/other", {}));
  EXPECT_TRUE(s->lookup(web, "other"));
  ASSERT_TRUE(s->disconnect("net-a", other));
  EXPECT_FALSE(s->lookup(web, "other"));
}

}  // namespace
}  // namespace mydocker::engine::network
