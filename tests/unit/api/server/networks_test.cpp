// SPDX-License-Identifier: Apache-2.0
// The /networks routes over a real Unix socket, backed by a fake daemon whose networks are a
// real engine::network::NetworkStore in a temp dir (IDs and times from its seams), so status,
// wording and JSON shapes are checked end to end against dockerd's transcripts 223-244
// without the kernel.
#include "engine/network/networks.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/server/server.h"
#include "api/wire/version.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/unit/api/server/http_client.h"
#include "tests/unit/api/server/served_api.h"

namespace mydocker::api::server {
namespace {

using base::ErrorCode;
using engine::network::NetworkStore;
using nlohmann::json;
using testing::HttpResponse;

constexpr const char* kBridgeId =
    "0b2b215857a3cb516886e960416ce8f8f565421817feccaf6c6302843be6a892";
constexpr const char* kNoneId = "d4c43a569bbfa9328f71a823d0c3c9af33c8e16b26f35749ed0ae5d072984d2e";
constexpr const char* kHostId = "710db33d8842b77c4fbfbd32fa56ef550f13ca1dfdea48986748bf1058ea11bd";
constexpr const char* kNetId = "d2f19b8d792ed345a2ba7954323251348c9f0950c30106deca2d149517b6097a";
constexpr const char* kNet2Id = "1d17611cc20f12bc32136fbec6b2ee6aeacc92b4f707ba99a08f61d6120a8431";
constexpr const char* kNetcId = "f3ecac3d34848f7308516d0768c3c83c0fd7ecb3543ff52100d2ca284979989a";
constexpr const char* kEpId = "941ce0a03e6ad0ac0e8f4de3f3915ae5183bef82cfd7ccdca79ceb8ba23fed2e";

base::Error not_faked() {
  return base::make_error(ErrorCode::NotImplemented, "not faked");
}

// Only networks are real; containers are a name -> ID table.
class NetFakeDaemon final : public engine::Daemon {
 public:
  std::unique_ptr<NetworkStore> store;
  std::vector<engine::network::Prefix> host_routes;
  std::map<std::string, std::string> containers;  // name -> ID

  base::Result<std::pair<std::string, std::string>> container(std::string_view ref) {
    for (const auto& [name, id] : containers) {
      if (ref == name || ref == "/" + name || ref == id ||
          (ref.size() >= 3 && std::string_view(id).starts_with(ref))) {
        return std::make_pair(id, name);
      }
    }
    return base::make_error(ErrorCode::NotFound, "No such container: {}", ref);
  }

  base::Result<std::vector<engine::network::Network>> network_list(
      const std::map<std::string, std::vector<std::string>>& filters) override {
    return store->list(filters);
  }
  base::Result<engine::network::Network> network_inspect(std::string_view ref) override {
    return store->find(ref);
  }
  base::Result<engine::network::CreateResult> network_create(
      const engine::network::CreateRequest& req) override {
    return store->create(req, host_routes);
  }
  base::Result<void> network_remove(std::string_view ref) override {
    MYDOCKER_TRY(store->remove(ref));
    return base::ok();
  }
  base::Result<void> network_connect(std::string_view ref,
                                     const engine::NetworkConnectRequest& req) override {
    auto [id, name] = MYDOCKER_TRY(container(req.container));
    MYDOCKER_TRY(store->connect(ref, id, name, req.endpoint));
    return base::ok();
  }
  base::Result<void> network_disconnect(std::string_view ref,
                                        const engine::NetworkDisconnectRequest& req) override {
    auto c = container(req.container);
    if (!c && !req.force) {
      return std::move(c).error();
    }
    MYDOCKER_TRY(store->disconnect(ref, c ? c->first : req.container));
    return base::ok();
  }
  base::Result<std::vector<std::string>> network_prune(
      const std::map<std::string, std::vector<std::string>>& filters) override {
    std::vector<std::string> names;
    for (const auto& n : MYDOCKER_TRY(store->prune(filters))) {
      names.push_back(n.name);
    }
    return names;
  }

  // Everything else is outside this test.
  base::Result<engine::CreateResult> create(engine::CreateRequest) override { return not_faked(); }
  base::Result<void> start(std::string_view) override { return not_faked(); }
  base::Result<void> stop(std::string_view, std::optional<int64_t>,
                          std::optional<std::string>) override {
    return not_faked();
  }
  base::Result<void> restart(std::string_view, std::optional<int64_t>,
                             std::optional<std::string>) override {
    return not_faked();
  }
  base::Result<void> kill(std::string_view, std::string_view) override { return not_faked(); }
  base::Result<void> pause(std::string_view) override { return not_faked(); }
  base::Result<void> unpause(std::string_view) override { return not_faked(); }
  base::Result<engine::WaitResult> wait(std::string_view, engine::WaitCondition) override {
    return not_faked();
  }
  base::Result<void> remove(std::string_view, bool, bool) override { return not_faked(); }
  base::Result<std::vector<engine::ContainerInfo>> list(const engine::ListOptions&) override {
    return not_faked();
  }
  base::Result<engine::ContainerInfo> inspect(std::string_view, bool) override {
    return not_faked();
  }
  base::Result<void> logs(std::string_view, const engine::LogsOptions&,
                          const engine::LogSink&) override {
    return not_faked();
  }
  base::Result<engine::TopResult> top(std::string_view, std::string_view) override {
    return not_faked();
  }
  base::Result<void> rename(std::string_view, std::string_view) override { return not_faked(); }
  base::Result<std::vector<std::string>> update(std::string_view,
                                                const engine::UpdateRequest&) override {
    return not_faked();
  }
  base::Result<engine::PruneResult> prune(
      const std::map<std::string, std::vector<std::string>>&) override {
    return not_faked();
  }
  base::Result<void> export_container(std::string_view, const engine::Sink&) override {
    return not_faked();
  }
  base::Result<std::vector<engine::Change>> changes(std::string_view) override {
    return not_faked();
  }
  base::Result<void> attach(std::string_view, const engine::AttachOptions&,
                            const engine::Upgrade&) override {
    return not_faked();
  }
  base::Result<void> resize(std::string_view, int, int) override { return not_faked(); }
  base::Result<std::string> exec_create(std::string_view, const engine::ExecConfig&) override {
    return not_faked();
  }
  base::Result<void> exec_start(std::string_view, const engine::ExecStartOptions&,
                                const engine::Upgrade&) override {
    return not_faked();
  }
  base::Result<engine::ExecInfo> exec_inspect(std::string_view) override { return not_faked(); }
  base::Result<void> exec_resize(std::string_view, int, int) override { return not_faked(); }
  base::Result<void> events(const engine::EventsOptions&, const engine::EventSink&) override {
    return not_faked();
  }
  base::Result<void> stats(std::string_view, const engine::StatsOptions&,
                           const engine::StatsSink&) override {
    return not_faked();
  }
  image::Images& images() override { std::abort(); }
  engine::SystemInfo info() override { return {}; }
  base::Result<engine::DiskUsage> disk_usage() override { return not_faked(); }
};

class NetworkRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::network::StoreOptions o;
    o.root = tmp_.path() + "/network";
    o.default_bridge = "docker0";
    o.new_id = [this] {
      if (ids_.empty()) {
        return engine::network::random_id();
      }
      std::string id = ids_.front();
      ids_.pop_front();
      return id;
    };
    o.now = [this] {
      if (times_.empty()) {
        return std::string("2026-11-29T18:26:37.660767062Z");
      }
      std::string t = times_.front();
      times_.pop_front();
      return t;
    };
    ids_ = {kBridgeId, kNoneId, kHostId};
    times_ = {"2026-11-29T17:11:39.893359659Z", "2026-11-29T17:11:39.868934214Z",
              "2026-11-29T17:11:39.876473719Z"};
    auto store = NetworkStore::open(o, {});
    ASSERT_TRUE(store) << store.error().message();
    daemon_.store = std::move(*store);
    // 192.168.208.0/20 is the first free default pool, as on the recording host.
    for (const char* r : {"172.18.0.0/15", "172.20.0.0/14", "172.24.0.0/13", "192.168.0.0/17",
                          "192.168.128.0/18", "192.168.192.0/20"}) {
      daemon_.host_routes.push_back(*engine::network::parse_cidr(r));
    }
    daemon_.containers["tx-netc"] = kNetcId;

    auto up = api_.start(daemon_, sock());
    ASSERT_TRUE(up) << up.error().to_string();
  }
  void TearDown() override { api_.stop(); }
  std::string sock() const { return tmp_.path() + "/api.sock"; }

  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = "") {
    std::map<std::string, std::string> headers;
    if (!body.empty()) {
      headers["Content-Type"] = "application/json";
    }
    auto r = testing::request(sock(), method, target, body, headers);
    EXPECT_TRUE(r) << method << " " << target << ": " << r.error().to_string();
    return r ? *r : HttpResponse{};
  }
  // Status and exact body (dockerd ends every JSON body with "\n").
  void expect(const HttpResponse& r, int status, const std::string& body) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.body, body);
  }
  static std::string message_body(const std::string& message) {
    return json{{"message", message}}.dump() + "\n";
  }

  mydocker::testing::TempDir tmp_;
  std::deque<std::string> ids_;
  std::deque<std::string> times_;
  NetFakeDaemon daemon_;
  testing::ServedApi api_;
};

constexpr const char* kList223 =
    R"([{"Name":"bridge","Id":"0b2b215857a3cb516886e960416ce8f8f565421817feccaf6c6302843be6a892","Created":"2026-11-29T17:11:39.893359659Z","Scope":"local","Driver":"bridge","EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"172.17.0.0/16"}]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{},"Options":{"com.docker.network.bridge.default_bridge":"true","com.docker.network.bridge.enable_icc":"true","com.docker.network.bridge.enable_ip_masquerade":"true","com.docker.network.bridge.host_binding_ipv4":"0.0.0.0","com.docker.network.bridge.name":"docker0","com.docker.network.driver.mtu":"1500"},"Labels":{}},{"Name":"none","Id":"d4c43a569bbfa9328f71a823d0c3c9af33c8e16b26f35749ed0ae5d072984d2e","Created":"2026-11-29T17:11:39.868934214Z","Scope":"local","Driver":"null","EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":[]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{},"Options":{},"Labels":{}},{"Name":"host","Id":"710db33d8842b77c4fbfbd32fa56ef550f13ca1dfdea48986748bf1058ea11bd","Created":"2026-11-29T17:11:39.876473719Z","Scope":"local","Driver":"host","EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":[]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{},"Options":{},"Labels":{}}])"
    "\n";
constexpr const char* kInspect230 =
    R"({"Name":"tx-net","Id":"d2f19b8d792ed345a2ba7954323251348c9f0950c30106deca2d149517b6097a","Created":"2026-11-29T18:26:37.660767062Z","Scope":"local","Driver":"bridge","EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"192.168.208.0/20","Gateway":"192.168.208.1"}]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{},"Options":{},"Labels":{"tx":"1"}})"
    "\n";
constexpr const char* kInspect233 =
    R"({"Name":"tx-net","Id":"d2f19b8d792ed345a2ba7954323251348c9f0950c30106deca2d149517b6097a","Created":"2026-11-29T18:26:37.660767062Z","Scope":"local","Driver":"bridge","EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"192.168.208.0/20","Gateway":"192.168.208.1"}]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{"f3ecac3d34848f7308516d0768c3c83c0fd7ecb3543ff52100d2ca284979989a":{"Name":"tx-netc","EndpointID":"941ce0a03e6ad0ac0e8f4de3f3915ae5183bef82cfd7ccdca79ceb8ba23fed2e","MacAddress":"02:42:c0:a8:d0:02","IPv4Address":"192.168.208.2/20","IPv6Address":""}},"Options":{},"Labels":{"tx":"1"}})"
    "\n";

TEST_F(NetworkRoutesTest, TranscriptSequence) {
  expect(call("GET", "/v1.41/networks"), 200, kList223);                                     // 223
  auto list = call("GET", "/v1.41/networks?filters=%7B%22name%22%3A%5B%22bridge%22%5D%7D");  // 244
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(json::parse(list.body).size(), 1u);
  EXPECT_EQ(json::parse(list.body)[0]["Name"], "bridge");
  EXPECT_EQ(call("GET", "/v1.41/networks/bridge").status, 200);

  ids_ = {kNetId};
  expect(call("POST", "/v1.41/networks/create",
              R"({"Name":"tx-net","CheckDuplicate":true,"Labels":{"tx":"1"}})"),
         201,
         R"({"Id":")" + std::string(kNetId) +
             R"(","Warning":""})"
             "\n");  // 225
  expect(call("POST", "/v1.41/networks/create", R"({"Name":"tx-net","CheckDuplicate":true})"), 409,
         message_body("network with name tx-net already exists"));  // 226
  expect(call("POST", "/v1.41/networks/create",
              R"({"Name":"tx-net-bad","Driver":"nosuchdriver","CheckDuplicate":true})"),
         404, message_body("plugin \"nosuchdriver\" not found"));   // 229
  expect(call("GET", "/v1.41/networks/tx-net"), 200, kInspect230);  // 230
  expect(call("GET", "/v1.41/networks/tx-net?verbose=false&scope=local"), 200, kInspect230);
  expect(call("GET", "/v1.41/networks/tx-net?scope=swarm"), 404,
         message_body("network tx-net not found"));

  ids_ = {kEpId};
  auto connect = call("POST", "/v1.41/networks/tx-net/connect",
                      R"({"Container":"tx-netc","EndpointConfig":{"Aliases":["tx-alias"]}})");
  expect(connect, 200, "");  // 231
  EXPECT_FALSE(connect.has_header("Content-Type"));
  expect(call("POST", "/v1.41/networks/tx-net/connect", R"({"Container":"tx-netc"})"), 403,
         message_body("endpoint with name tx-netc already exists in network tx-net"));  // 232
  expect(call("GET", "/v1.41/networks/tx-net"), 200, kInspect233);                      // 233
  EXPECT_EQ(daemon_.store->lookup(kNetcId, "tx-alias").value_or(std::vector<uint32_t>{}).size(),
            1u);
  expect(call("DELETE", "/v1.41/networks/tx-net"), 403,
         message_body("error while removing network: network tx-net id " + std::string(kNetId) +
                      " has active endpoints"));  // 234
  expect(
      call("POST", "/v1.41/networks/tx-net/disconnect", R"({"Container":"tx-netc","Force":false})"),
      200, "");  // 235
  expect(call("POST", "/v1.41/networks/tx-net/disconnect", R"({"Container":"tx-netc"})"), 500,
         message_body("container " + std::string(kNetcId) +
                      " is not connected to network tx-net"));  // 236
  expect(call("POST", "/v1.41/networks/tx-net/connect", R"({"Container":"tx-nosuch"})"), 404,
         message_body("No such container: tx-nosuch"));     // 237
  auto removed = call("DELETE", "/v1.41/networks/tx-net");  // 238
  EXPECT_EQ(removed.status, 204);
  EXPECT_EQ(removed.body, "");
  expect(call("DELETE", "/v1.41/networks/tx-net"), 404,
         message_body("network tx-net not found"));  // 239
  expect(call("GET", "/v1.41/networks/tx-nosuch"), 404,
         message_body("network tx-nosuch not found"));  // 240
  expect(call("DELETE", "/v1.41/networks/bridge"), 403,
         message_body("bridge is a pre-defined network and cannot be removed"));  // 241
}

TEST_F(NetworkRoutesTest, DuplicateWithoutCheckThenAmbiguous) {
  ids_ = {kNetId};
  ASSERT_EQ(call("POST", "/v1.41/networks/create", R"({"Name":"tx-net"})").status, 201);
  ids_ = {kNet2Id};
  expect(call("POST", "/v1.41/networks/create", R"({"Name":"tx-net"})"), 201,
         R"({"Id":")" + std::string(kNet2Id) + R"(","Warning":"Network with name tx-net (id : )" +
             kNetId +
             R"() already exists"})"
             "\n");  // 227
  expect(call("GET", "/v1.41/networks/tx-net"), 400,
         message_body("2 matches found based on name: network tx-net is ambiguous"));  // 228
  EXPECT_EQ(call("GET", std::string("/v1.41/networks/") + kNet2Id).status, 200);
}

TEST_F(NetworkRoutesTest, Prune) {
  auto body = R"({"Name":"tx-net-prune","CheckDuplicate":true,"Labels":{"tx-prune":"1"}})";
  ASSERT_EQ(call("POST", "/v1.41/networks/create", body).status, 201);
  ASSERT_EQ(call("POST", "/v1.41/networks/create", R"({"Name":"other"})").status, 201);
  const std::string target =
      "/v1.41/networks/prune?filters=%7B%22label%22%3A%5B%22tx-prune%3D1%22%5D%7D";
  expect(call("POST", target), 200,
         R"({"NetworksDeleted":["tx-net-prune"]})"
         "\n");  // 242
  expect(call("POST", target), 200,
         R"({"NetworksDeleted":null})"
         "\n");  // 243
  expect(call("POST", "/v1.41/networks/prune?filters=%7B%22name%22%3A%5B%22x%22%5D%7D"), 400,
         message_body("Invalid filter 'name'"));
}

TEST_F(NetworkRoutesTest, CreateBodiesAndFilters) {
  auto r = call("POST", "/v1.41/networks/create",
                R"({"Name":"fixed","Driver":"bridge","IPAM":{"Driver":"default","Options":{},)"
                R"("Config":[{"Subnet":"10.77.0.0/16","Gateway":"10.77.0.254"}]},)"
                R"("Options":{"com.docker.network.bridge.name":"fixed0"},"Internal":true})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = json::parse(call("GET", "/v1.41/networks/fixed").body);
  EXPECT_EQ(
      j["IPAM"].dump(),
      R"({"Config":[{"Gateway":"10.77.0.254","Subnet":"10.77.0.0/16"}],"Driver":"default","Options":{}})");
  EXPECT_EQ(j["Internal"], true);
  EXPECT_EQ(j["Options"]["com.docker.network.bridge.name"], "fixed0");
  // --ip through EndpointConfig.IPAMConfig.
  daemon_.containers["web"] = std::string(64, 'a');
  daemon_.containers["db"] = std::string(64, 'b');
  ASSERT_EQ(
      call("POST", "/v1.41/networks/fixed/connect",
           R"({"Container":"web","EndpointConfig":{"IPAMConfig":{"IPv4Address":"10.77.3.4"}}})")
          .status,
      200);
  expect(call("POST", "/v1.41/networks/fixed/connect",
              R"({"Container":"db","EndpointConfig":{"IPAMConfig":{"IPv4Address":"10.77.3.4"}}})"),
         403, message_body("Address already in use"));
  j = json::parse(call("GET", "/v1.41/networks/fixed").body);
  EXPECT_EQ(j["Containers"][std::string(64, 'a')]["IPv4Address"], "10.77.3.4/16");
  // Overlap, bad CIDR, and a wrong type.
  expect(call("POST", "/v1.41/networks/create",
              R"({"Name":"o","IPAM":{"Config":[{"Subnet":"10.77.128.0/17"}]}})"),
         403, message_body("Pool overlaps with other one on this address space"));
  expect(call("POST", "/v1.41/networks/create",
              R"({"Name":"o","IPAM":{"Config":[{"Subnet":"10.78.0.0/99"}]}})"),
         400,
         message_body("invalid network config:\ninvalid subnet 10.78.0.0/99: invalid CIDR block "
                      "notation"));
  EXPECT_EQ(call("POST", "/v1.41/networks/create", R"({"Name":7})").status, 400);
  EXPECT_EQ(call("POST", "/v1.41/networks/create", R"({"Name":)").status, 400);
  expect(call("POST", "/v1.41/networks/create", R"({"Name":"host"})"), 403,
         message_body("host is a pre-defined network and cannot be created"));
  // Disconnect with force of a container the daemon no longer knows, by endpoint name.
  daemon_.containers.erase("web");
  expect(call("POST", "/v1.41/networks/fixed/disconnect", R"({"Container":"web"})"), 404,
         message_body("No such container: web"));
  expect(call("POST", "/v1.41/networks/fixed/disconnect", R"({"Container":"web","Force":true})"),
         200, "");
  // List filters.
  auto custom = json::parse(
      call("GET", "/v1.41/networks?filters=%7B%22type%22%3A%5B%22custom%22%5D%7D").body);
  ASSERT_EQ(custom.size(), 1u);
  EXPECT_EQ(custom[0]["Name"], "fixed");
  EXPECT_EQ(custom[0]["Containers"].dump(), "{}");
  expect(call("GET", "/v1.41/networks?filters=%7B%22nosuch%22%3A%5B%22x%22%5D%7D"), 400,
         message_body("Invalid filter 'nosuch'"));
  EXPECT_EQ(call("GET", "/v1.41/networks?filters=%7Bbad").status, 500);
}

}  // namespace
}  // namespace mydocker::api::server
