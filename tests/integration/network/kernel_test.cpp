// SPDX-License-Identifier: Apache-2.0
// Root tests of engine/network's kernel side. Every link, namespace file and nftables table a
// test makes is named from mdt<pid> and removed in TearDown, which then checks that nothing
// is left. Traffic stays between loopback, the test's bridges and its namespaces.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/network/endpoint.h"
#include "engine/network/firewall.h"
#include "engine/network/netlink.h"
#include "engine/network/netns.h"
#include "engine/network/ports.h"
#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/poll.h"
#include "tests/support/require.h"

namespace mydocker::engine::network::kernel {
namespace {

using namespace std::chrono_literals;
using mydocker::testing::Need;

base::Fd socket_in(const NetNs* ns, int type, int proto = 0) {
  base::Fd out;
  auto make = [&]() -> base::Result<void> {
    out = base::Fd::adopt(::socket(AF_INET, type | SOCK_CLOEXEC, proto));
    return base::ok();
  };
  if (ns == nullptr) {
    (void)make();
  } else {
    auto r = ns->run(make);
    EXPECT_TRUE(r) << r.error().to_string();
  }
  return out;
}

sockaddr_in sockaddr_of(const Ipv4Addr& ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(ip.to_u32());
  return sa;
}

bool wait_fd(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

// A TCP server inside a namespace: answers each connection with "pong:" + what it read.
class EchoServer {
 public:
  EchoServer(const NetNs& ns, uint16_t port) {
    fd_ = socket_in(&ns, SOCK_STREAM);
    int one = 1;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    auto sa = sockaddr_of(Ipv4Addr{}, port);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
    EXPECT_EQ(::listen(fd_.get(), 16), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~EchoServer() {
    stop_ = true;
    thread_.join();
  }
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;
  // The peer address of the last connection served.
  std::string last_peer() const {
    return last_peer_.load() == 0 ? "" : Ipv4Addr::from_u32(last_peer_).to_string();
  }

 private:
  void serve() {
    while (!stop_) {
      if (!wait_fd(fd_.get(), POLLIN, 20ms)) {
        continue;
      }
      sockaddr_in peer{};
      socklen_t len = sizeof(peer);
      base::Fd c = base::Fd::adopt(
          ::accept4(fd_.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
      if (!c) {
        continue;
      }
      last_peer_ = ntohl(peer.sin_addr.s_addr);
      char buf[256];
      if (!wait_fd(c.get(), POLLIN, 2s)) {
        continue;
      }
      ssize_t n = ::read(c.get(), buf, sizeof(buf));
      if (n > 0) {
        std::string reply = "pong:" + std::string(buf, static_cast<size_t>(n));
        (void)!::write(c.get(), reply.data(), reply.size());
      }
    }
  }
  base::Fd fd_;
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> last_peer_{0};
  std::thread thread_;
};

// Connects from `ns` (nullptr: the host) to ip:port, sends `msg`, returns the reply; nullopt
// when the connection does not complete within `timeout` (dropped or refused).
std::optional<std::string> tcp_exchange(const NetNs* ns, const Ipv4Addr& ip, uint16_t port,
                                        const std::string& msg,
                                        std::chrono::milliseconds timeout = 2s) {
  base::Fd fd = socket_in(ns, SOCK_STREAM | SOCK_NONBLOCK);
  auto sa = sockaddr_of(ip, port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0 &&
      errno != EINPROGRESS) {
    return std::nullopt;
  }
  if (!wait_fd(fd.get(), POLLOUT, timeout)) {
    return std::nullopt;
  }
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    return std::nullopt;
  }
  if (::write(fd.get(), msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) {
    return std::nullopt;
  }
  std::string out;
  char buf[256];
  while (wait_fd(fd.get(), POLLIN, 2s)) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n <= 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

uint16_t icmp_checksum(const uint8_t* data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) {
    sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  }
  if (len % 2 != 0) {
    sum += static_cast<uint32_t>(data[len - 1] << 8);
  }
  while (sum >> 16 != 0) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

// One ICMP echo from `ns` to `ip` over a raw socket; true when the reply comes from `ip`.
bool ping(const NetNs& ns, const Ipv4Addr& ip, std::chrono::milliseconds timeout = 2s) {
  base::Fd fd = socket_in(&ns, SOCK_RAW, IPPROTO_ICMP);
  if (!fd) {
    return false;
  }
  uint8_t pkt[16] = {ICMP_ECHO, 0, 0, 0, 0x6d, 0x64, 0, 1, 'm', 'y', 'd', 'o', 'c', 'k', 'e', 'r'};
  uint16_t sum = icmp_checksum(pkt, sizeof(pkt));
  pkt[2] = static_cast<uint8_t>(sum >> 8);
  pkt[3] = static_cast<uint8_t>(sum & 0xff);
  auto sa = sockaddr_of(ip, 0);
  if (::sendto(fd.get(), pkt, sizeof(pkt), 0, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) {
    return false;
  }
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (!wait_fd(fd.get(), POLLIN, 50ms)) {
      continue;
    }
    uint8_t buf[512];
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    ssize_t n = ::recvfrom(fd.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 28) {
      continue;
    }
    size_t ihl = static_cast<size_t>(buf[0] & 0x0f) * 4;
    if (static_cast<size_t>(n) < ihl + 8) {
      continue;
    }
    const uint8_t* icmp = buf + ihl;
    if (icmp[0] == ICMP_ECHOREPLY && icmp[4] == 0x6d && icmp[5] == 0x64 &&
        ntohl(from.sin_addr.s_addr) == ip.to_u32()) {
      return true;
    }
  }
  return false;
}

Ipv4Addr ip(const char* text) {
  return *Ipv4Addr::parse(text);
}

class RootNetKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(Need::Root);
    prefix_ = fmt::format("mdt{}", ::getpid());
    table_ = prefix_;
    // Two /24s of their own per process, unlikely to meet a host route; checked below.
    octet_ = 2 * (::getpid() % 100);
    auto nl = Netlink::open();
    ASSERT_TRUE(nl) << nl.error().to_string();
    host_.emplace(std::move(*nl));
    auto nft = Nft::open();
    ASSERT_TRUE(nft) << nft.error().to_string();
    firewall_.emplace(std::move(*nft), table_);
    ready_ = true;
    // A crashed earlier run under the same pid would make creations fail as existing.
    ASSERT_TRUE(firewall_->remove_table());
    ASSERT_TRUE(delete_links_with_prefix(*host_, prefix_, [](const LinkInfo&) { return false; }));
  }

  void TearDown() override {
    if (!ready_) {
      return;
    }
    servers_.clear();
    namespaces_.clear();  // owned: unmounted and unlinked
    // Kept ones a failed test did not get to remove.
    for (const auto& name : mydocker::testing::list_dir(dir_.path())) {
      EXPECT_TRUE(remove_netns(dir_.path() + "/" + name));
    }
    EXPECT_TRUE(firewall_->remove_table());
    auto deleted = delete_links_with_prefix(*host_, prefix_, [](const LinkInfo&) { return false; });
    EXPECT_TRUE(deleted);
    // Nothing may be left: no link, no table, no namespace file or mount.
    auto left = host_->list_links(prefix_);
    ASSERT_TRUE(left);
    for (const auto& l : *left) {
      ADD_FAILURE() << "link left behind: " << l.name;
    }
    auto listed = firewall_->list();
    EXPECT_FALSE(listed) << "table left behind: " << *listed;
    if (!listed) {
      EXPECT_EQ(listed.error().code(), base::ErrorCode::NotFound) << listed.error().to_string();
    }
    EXPECT_TRUE(mydocker::testing::list_dir(dir_.path()).empty());
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mountinfo, line)) {
      EXPECT_EQ(line.find(dir_.path()), std::string::npos) << "mount left behind: " << line;
    }
  }

  std::string bridge(int k) const { return fmt::format("{}b{}", prefix_, k); }
  std::string veth(int k) const { return fmt::format("{}v{}", prefix_, k); }
  // 10.213.<octet+net>.<host>
  Ipv4Addr addr(int net, int host) const {
    return Ipv4Addr{{10, 213, static_cast<uint8_t>(octet_ + net), static_cast<uint8_t>(host)}};
  }
  Ipv4Net subnet(int net) const { return Ipv4Net{addr(net, 0), 24}; }

  NetNs& make_ns() {
    auto ns = NetNs::create(fmt::format("{}/ns{}", dir_.path(), namespaces_.size()));
    EXPECT_TRUE(ns) << ns.error().to_string();
    namespaces_.push_back(std::make_unique<NetNs>(std::move(*ns)));
    return *namespaces_.back();
  }

  void make_bridge(int net) {
    BridgePlan plan{bridge(net), Ipv4Net{addr(net, 1), 24}, 0, true};
    auto r = setup_bridge(*host_, plan);
    ASSERT_TRUE(r) << r.error().to_string();
  }

  // A namespace on bridge `net` at .<host>, default route via .1.
  NetNs& make_container(int net, int host, int k) {
    NetNs& ns = make_ns();
    EndpointRequest req;
    req.endpoint_id = fmt::format("{}-{}", prefix_, k);
    req.bridge = bridge(net);
    req.address = Ipv4Net{addr(net, host), 24};
    req.gateway = addr(net, 1);
    EndpointPlan plan = plan_endpoint(req);
    plan.host_veth = veth(k);  // the test's prefix, so TearDown finds it
    auto r = attach_endpoint(*host_, ns, plan);
    EXPECT_TRUE(r) << r.error().to_string();
    return ns;
  }

  EchoServer& serve(const NetNs& ns, uint16_t port) {
    servers_.push_back(std::make_unique<EchoServer>(ns, port));
    return *servers_.back();
  }

  bool ready_ = false;
  mydocker::testing::TempDir dir_;  // first member: destroyed after the namespaces
  std::string prefix_;
  std::string table_;
  int octet_ = 0;
  std::optional<Netlink> host_;
  std::optional<Firewall> firewall_;
  std::vector<std::unique_ptr<NetNs>> namespaces_;
  std::vector<std::unique_ptr<EchoServer>> servers_;
};

TEST_F(RootNetKernelTest, NamespaceFileIsCreatedEnteredAndRemoved) {
  std::string path = dir_.path() + "/ns";
  {
    auto ns = NetNs::create(path);
    ASSERT_TRUE(ns) << ns.error().to_string();
    EXPECT_TRUE(is_netns_file(path));
    auto again = NetNs::create(path);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), base::ErrorCode::AlreadyExists);

    // Inside: only a loopback, down until setup_loopback.
    std::vector<LinkInfo> links;
    auto r = ns->run([&]() -> base::Result<void> {
      auto nl = MYDOCKER_TRY(Netlink::open());
      links = MYDOCKER_TRY(nl.list_links());
      return base::ok();
    });
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_EQ(links.size(), 1u);
    EXPECT_EQ(links[0].name, "lo");
    EXPECT_FALSE(links[0].up);
    ASSERT_TRUE(setup_loopback(*ns));
    r = ns->run([&]() -> base::Result<void> {
      auto nl = MYDOCKER_TRY(Netlink::open());
      auto lo = MYDOCKER_TRY(nl.link("lo"));
      EXPECT_TRUE(lo.up);
      return base::ok();
    });
    ASSERT_TRUE(r) << r.error().to_string();
    // The host still sees its own interfaces: run() did not move this thread.
    auto host_lo = host_->link("lo");
    EXPECT_TRUE(host_lo);

    // Another handle by path (what the OCI spec's namespace path gives a runtime).
    auto opened = NetNs::open(path);
    ASSERT_TRUE(opened) << opened.error().to_string();
    auto not_net = NetNs::open("/proc/self/ns/mnt");
    ASSERT_FALSE(not_net);
    EXPECT_EQ(not_net.error().code(), base::ErrorCode::InvalidArgument);
    // The owned handle goes out of scope here: the file is unmounted and removed.
  }
  EXPECT_FALSE(is_netns_file(path));
  EXPECT_FALSE(NetNs::open(path));

  // A kept namespace survives its handle until remove_netns.
  {
    auto ns = NetNs::create(path);
    ASSERT_TRUE(ns);
    ns->release();
  }
  EXPECT_TRUE(is_netns_file(path));
  EXPECT_TRUE(remove_netns(path));
  EXPECT_TRUE(remove_netns(path));  // idempotent
  EXPECT_FALSE(is_netns_file(path));
}

TEST_F(RootNetKernelTest, NetnsDirIsASharedMount) {
  std::string d = dir_.path() + "/netns";
  ASSERT_TRUE(make_netns_dir(d));
  ASSERT_TRUE(make_netns_dir(d));  // idempotent: not stacked twice
  int mounts = 0;
  bool shared = false;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    if (line.find(" " + d + " ") != std::string::npos) {
      ++mounts;
      shared = line.find("shared:") != std::string::npos;
    }
  }
  EXPECT_EQ(mounts, 1);
  EXPECT_TRUE(shared);
  EXPECT_EQ(::umount2(d.c_str(), MNT_DETACH), 0);
  ::rmdir(d.c_str());
}

TEST_F(RootNetKernelTest, BridgeAndVethAreConfiguredAsPlanned) {
  make_bridge(0);
  auto br = host_->link(bridge(0));
  ASSERT_TRUE(br) << br.error().to_string();
  EXPECT_EQ(br->kind, "bridge");
  EXPECT_TRUE(br->up);
  auto addrs = host_->addresses(bridge(0));
  ASSERT_TRUE(addrs);
  ASSERT_EQ(addrs->size(), 1u);
  EXPECT_EQ((*addrs)[0].to_string(), addr(0, 1).to_string() + "/24");
  auto localnet = read_sysctl(fmt::format("net/ipv4/conf/{}/route_localnet", bridge(0)));
  ASSERT_TRUE(localnet);
  EXPECT_EQ(*localnet, "1");
  // Again on the existing bridge (a daemon restart): fine, nothing doubled.
  make_bridge(0);
  addrs = host_->addresses(bridge(0));
  ASSERT_TRUE(addrs);
  EXPECT_EQ(addrs->size(), 1u);

  NetNs& ns = make_container(0, 2, 0);
  auto host_end = host_->link(veth(0));
  ASSERT_TRUE(host_end) << host_end.error().to_string();
  EXPECT_EQ(host_end->master, br->index);
  EXPECT_TRUE(host_end->up);
  auto hairpin = base::read_file(fmt::format("/sys/class/net/{}/brport/hairpin_mode", veth(0)));
  ASSERT_TRUE(hairpin);
  EXPECT_EQ(*hairpin, "1\n");
  auto r = ns.run([&]() -> base::Result<void> {
    auto nl = MYDOCKER_TRY(Netlink::open());
    auto eth0 = MYDOCKER_TRY(nl.link("eth0"));
    EXPECT_TRUE(eth0.up);
    EXPECT_EQ(eth0.kind, "veth");
    EXPECT_TRUE(eth0.mac.has_value());
    if (eth0.mac) {
      EXPECT_EQ(eth0.mac->to_string(),
                fmt::format("02:42:0a:d5:{:02x}:02", static_cast<unsigned>(octet_)));
    }
    auto a = MYDOCKER_TRY(nl.addresses("eth0"));
    EXPECT_EQ(a.size(), 1u);
    if (!a.empty()) {
      EXPECT_EQ(a[0], (Ipv4Net{addr(0, 2), 24}));
    }
    EXPECT_TRUE(MYDOCKER_TRY(nl.link("lo")).up);
    // The default route is in place: a second one is refused as existing.
    auto again = nl.add_route(Ipv4Net{Ipv4Addr{}, 0}, addr(0, 1), "eth0");
    EXPECT_FALSE(again);
    if (!again) {
      EXPECT_EQ(again.error().code(), base::ErrorCode::AlreadyExists) << again.error().to_string();
    }
    return base::ok();
  });
  ASSERT_TRUE(r) << r.error().to_string();
  // The peer never appeared on the host.
  auto stray = host_->find_link("eth0");
  ASSERT_TRUE(stray);
  EXPECT_FALSE(stray->has_value() && (*stray)->kind == "veth");

  // A second endpoint with the same host veth name fails and leaves the first intact.
  NetNs& ns2 = make_ns();
  EndpointPlan dup =
      plan_endpoint({"x", bridge(0), "eth0", Ipv4Net{addr(0, 3), 24}, addr(0, 1), 0, {}});
  dup.host_veth = veth(0);
  auto failed = attach_endpoint(*host_, ns2, dup);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), base::ErrorCode::AlreadyExists) << failed.error().to_string();
  EXPECT_TRUE(host_->link(veth(0)));

  // Detach removes both ends.
  ASSERT_TRUE(detach_endpoint(*host_, veth(0)));
  ASSERT_TRUE(detach_endpoint(*host_, veth(0)));  // idempotent
  r = ns.run([&]() -> base::Result<void> {
    auto nl = MYDOCKER_TRY(Netlink::open());
    EXPECT_FALSE(MYDOCKER_TRY(nl.find_link("eth0")).has_value());
    return base::ok();
  });
  ASSERT_TRUE(r) << r.error().to_string();
}

TEST_F(RootNetKernelTest, LinkIsMovedIntoANamespaceAndRenamedThere) {
  // The three-step path (create on the host, move, rename), for links made before their
  // namespace exists.
  VethSpec spec;
  spec.host_name = veth(0);
  spec.peer_name = veth(1);
  spec.mtu = 1400;
  ASSERT_TRUE(host_->add_veth(spec));
  NetNs& ns = make_ns();
  ASSERT_TRUE(host_->move_to_netns(veth(1), ns.fd()));
  auto gone = host_->find_link(veth(1));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  auto r = ns.run([&]() -> base::Result<void> {
    auto nl = MYDOCKER_TRY(Netlink::open());
    MYDOCKER_TRY(nl.rename(veth(1), "eth0"));
    MYDOCKER_TRY(nl.set_mac("eth0", *MacAddr::parse("02:42:0a:00:00:09")));
    MYDOCKER_TRY(nl.set_mtu("eth0", 1300));
    MYDOCKER_TRY(nl.set_up("eth0"));
    auto eth0 = MYDOCKER_TRY(nl.link("eth0"));
    EXPECT_EQ(eth0.mtu, 1300u);
    EXPECT_TRUE(eth0.up);
    EXPECT_EQ(eth0.mac->to_string(), "02:42:0a:00:00:09");
    MYDOCKER_TRY(nl.set_down("eth0"));
    EXPECT_FALSE(MYDOCKER_TRY(nl.link("eth0")).up);
    return base::ok();
  });
  ASSERT_TRUE(r) << r.error().to_string();
  auto host_end = host_->link(veth(0));
  ASSERT_TRUE(host_end);
  EXPECT_EQ(host_end->mtu, 1400u);
  auto missing = host_->set_up(veth(1));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), base::ErrorCode::NotFound) << missing.error().to_string();
}

TEST_F(RootNetKernelTest, RemovingTheNamespaceRemovesTheVethPair) {
  // Container removal needs no RTM_DELLINK (which waits for an RCU grace period, ~30 ms):
  // the namespace's last reference goes, and the kernel destroys the peer and with it the
  // host end.
  make_bridge(0);
  NetNs& ns = make_container(0, 2, 0);
  ASSERT_TRUE(host_->link(veth(0)));
  ASSERT_TRUE(ns.remove());
  bool gone = mydocker::testing::poll_until([&] {
    auto l = host_->find_link(veth(0));
    return l && !l->has_value();
  });
  EXPECT_TRUE(gone);
}

TEST_F(RootNetKernelTest, TwoNamespacesOnABridgeReachEachOther) {
  make_bridge(0);
  NetNs& a = make_container(0, 2, 0);
  NetNs& b = make_container(0, 3, 1);
  EXPECT_TRUE(ping(b, addr(0, 2)));
  EXPECT_TRUE(ping(a, addr(0, 3)));
  EXPECT_TRUE(ping(a, addr(0, 1)));  // the gateway
  serve(a, 80);
  auto reply = tcp_exchange(&b, addr(0, 2), 80, "hi");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(*reply, "pong:hi");
  // Nothing answers on an address nobody has.
  EXPECT_FALSE(ping(a, addr(0, 99), 300ms));
}

TEST_F(RootNetKernelTest, IsolationDropsForwardingBetweenOurBridges) {
  make_bridge(0);
  make_bridge(1);
  NetNs& a = make_container(0, 2, 0);
  NetNs& b = make_container(1, 2, 1);
  serve(a, 80);
  // Routed through the host (ip_forward) before any rule: reachable, so the drop below is
  // the rule's doing.
  ASSERT_TRUE(enable_forwarding());
  auto before = tcp_exchange(&b, addr(0, 2), 80, "x");
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(*before, "pong:x");

  FirewallState state;
  state.networks = {{bridge(0), subnet(0), true, false}, {bridge(1), subnet(1), true, false}};
  auto r = firewall_->replace(state);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(tcp_exchange(&b, addr(0, 2), 80, "x", 300ms).has_value());
  EXPECT_FALSE(ping(a, addr(1, 2), 300ms));
  // Within one network, and to its own gateway, traffic still flows.
  NetNs& c = make_container(0, 3, 2);
  auto same = tcp_exchange(&c, addr(0, 2), 80, "y");
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(*same, "pong:y");
  EXPECT_TRUE(ping(b, addr(1, 1)));

  // Both directions.
  serve(b, 81);
  EXPECT_FALSE(tcp_exchange(&a, addr(1, 2), 81, "x", 300ms).has_value());

  // Once bridge 1 is no network of ours, network 0 may reach it (outbound, masqueraded) but
  // not be reached from it (unsolicited inbound is dropped).
  ASSERT_TRUE(firewall_->remove_network(bridge(1)));
  auto out = tcp_exchange(&a, addr(1, 2), 81, "out");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "pong:out");
  EXPECT_FALSE(tcp_exchange(&b, addr(0, 2), 80, "in", 300ms).has_value());
}

TEST_F(RootNetKernelTest, PublishedPortAnswersOnLoopbackBridgeAddressAndFromContainers) {
  make_bridge(0);
  NetNs& server_ns = make_container(0, 2, 0);
  NetNs& other = make_container(0, 3, 1);
  EchoServer& server = serve(server_ns, 80);
  FirewallState state;
  state.networks = {{bridge(0), subnet(0), true, false}};
  ASSERT_TRUE(firewall_->replace(state));

  std::optional<PortReservation> held;
  {
    auto r = PortReservation::reserve(Proto::Tcp, Ipv4Addr{}, 0);
    ASSERT_TRUE(r) << r.error().to_string();
    held.emplace(std::move(*r));
  }
  uint16_t port = held->port();
  auto [first, last] = ephemeral_port_range();
  EXPECT_GE(port, first);
  EXPECT_LE(port, last);
  auto r = firewall_->add_ports("c1", {{Proto::Tcp, Ipv4Addr{}, port, addr(0, 2), 80}});
  ASSERT_TRUE(r) << r.error().to_string();

  // The host through loopback: output DNAT, route_localnet, masquerade to the gateway.
  auto lo = tcp_exchange(nullptr, ip("127.0.0.1"), port, "lo");
  ASSERT_TRUE(lo.has_value());
  EXPECT_EQ(*lo, "pong:lo");
  EXPECT_EQ(server.last_peer(), addr(0, 1).to_string());
  // The host through the bridge address.
  auto gw = tcp_exchange(nullptr, addr(0, 1), port, "gw");
  ASSERT_TRUE(gw.has_value());
  EXPECT_EQ(*gw, "pong:gw");
  // Another container through the host address (prerouting DNAT + hairpin masquerade), and
  // the container itself.
  auto peer = tcp_exchange(&other, addr(0, 1), port, "peer");
  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(*peer, "pong:peer");
  auto self = tcp_exchange(&server_ns, addr(0, 1), port, "self");
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(*self, "pong:self");

  // A second owner cannot take the same host port.
  auto dup = firewall_->add_ports("c2", {{Proto::Tcp, Ipv4Addr{}, port, addr(0, 3), 80}});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), base::ErrorCode::Conflict);
  EXPECT_EQ(dup.error().message(),
            fmt::format("Bind for 0.0.0.0:{} failed: port is already allocated", port));

  // Published on 127.0.0.1 only: the loopback address answers, the bridge address does not.
  auto held2 = PortReservation::reserve(Proto::Tcp, ip("127.0.0.1"), 0);
  ASSERT_TRUE(held2) << held2.error().to_string();
  uint16_t port2 = held2->port();
  ASSERT_TRUE(firewall_->add_ports("c3", {{Proto::Tcp, ip("127.0.0.1"), port2, addr(0, 2), 80}}));
  auto only_lo = tcp_exchange(nullptr, ip("127.0.0.1"), port2, "lo2");
  ASSERT_TRUE(only_lo.has_value());
  EXPECT_EQ(*only_lo, "pong:lo2");
  EXPECT_FALSE(tcp_exchange(nullptr, addr(0, 1), port2, "gw2", 300ms).has_value());

  auto listed = firewall_->list();
  ASSERT_TRUE(listed) << listed.error().to_string();
  EXPECT_NE(listed->find(fmt::format("tcp . {} : {} . 80", port, addr(0, 2).to_string())),
            std::string::npos)
      << *listed;

  // Unpublished and released: the port is closed again.
  ASSERT_TRUE(firewall_->remove_ports("c1"));
  ASSERT_TRUE(firewall_->remove_ports("c1"));  // idempotent
  held.reset();
  EXPECT_FALSE(tcp_exchange(nullptr, ip("127.0.0.1"), port, "gone", 300ms).has_value());
  listed = firewall_->list();
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->find(fmt::format("tcp . {} :", port)), std::string::npos) << *listed;
}

TEST_F(RootNetKernelTest, PublishedUdpPortAnswersOnLoopback) {
  make_bridge(0);
  NetNs& ns = make_container(0, 2, 0);
  FirewallState state;
  state.networks = {{bridge(0), subnet(0), true, false}};
  ASSERT_TRUE(firewall_->replace(state));
  auto held = PortReservation::reserve(Proto::Udp, Ipv4Addr{}, 0);
  ASSERT_TRUE(held) << held.error().to_string();
  ASSERT_TRUE(firewall_->add_ports("u", {{Proto::Udp, Ipv4Addr{}, held->port(), addr(0, 2), 53}}));

  // A one-datagram echo inside the namespace.
  base::Fd server = socket_in(&ns, SOCK_DGRAM);
  auto bind_sa = sockaddr_of(Ipv4Addr{}, 53);
  ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&bind_sa), sizeof(bind_sa)), 0);
  std::thread echo([&] {
    if (!wait_fd(server.get(), POLLIN, 3s)) {
      return;
    }
    char buf[64];
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    ssize_t n =
        ::recvfrom(server.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n > 0) {
      ::sendto(server.get(), buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from),
               len);
    }
  });
  base::Fd client = socket_in(nullptr, SOCK_DGRAM);
  auto to = sockaddr_of(ip("127.0.0.1"), held->port());
  ASSERT_EQ(::sendto(client.get(), "dns?", 4, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 4);
  std::string reply;
  if (wait_fd(client.get(), POLLIN, 3s)) {
    char buf[64];
    ssize_t n = ::recv(client.get(), buf, sizeof(buf), 0);
    reply.assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
  }
  echo.join();
  EXPECT_EQ(reply, "dns?");
}

TEST_F(RootNetKernelTest, PortReservationRefusesATakenPortInDockersWords) {
  std::optional<PortReservation> a;
  {
    auto r = PortReservation::reserve(Proto::Tcp, Ipv4Addr{}, 0);
    ASSERT_TRUE(r) << r.error().to_string();
    a.emplace(std::move(*r));
  }
  uint16_t port = a->port();
  auto b = PortReservation::reserve(Proto::Tcp, Ipv4Addr{}, port);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), base::ErrorCode::Conflict);
  EXPECT_EQ(b.error().message(),
            fmt::format("Bind for 0.0.0.0:{} failed: port is already allocated", port));
  auto c = PortReservation::reserve(Proto::Tcp, ip("127.0.0.1"), port);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message(),
            fmt::format("Bind for 127.0.0.1:{} failed: port is already allocated", port));

  // Another program cannot take it either, even with SO_REUSEADDR.
  base::Fd other = base::Fd::adopt(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(other.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  auto sa = sockaddr_of(Ipv4Addr{}, port);
  EXPECT_NE(::bind(other.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  EXPECT_EQ(errno, EADDRINUSE);

  // UDP is a separate space; a UDP reservation blocks UDP.
  auto u = PortReservation::reserve(Proto::Udp, Ipv4Addr{}, port);
  ASSERT_TRUE(u) << u.error().to_string();
  auto u2 = PortReservation::reserve(Proto::Udp, Ipv4Addr{}, port);
  ASSERT_FALSE(u2);
  EXPECT_EQ(u2.error().code(), base::ErrorCode::Conflict);

  // A port another program holds is refused the same way.
  base::Fd listener = base::Fd::adopt(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto lsa = sockaddr_of(ip("127.0.0.1"), 0);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&lsa), sizeof(lsa)), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  socklen_t len = sizeof(lsa);
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&lsa), &len);
  uint16_t taken = ntohs(lsa.sin_port);
  auto d = PortReservation::reserve(Proto::Tcp, Ipv4Addr{}, taken);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message(),
            fmt::format("Bind for 0.0.0.0:{} failed: port is already allocated", taken));

  // Released: free again.
  a.reset();
  EXPECT_TRUE(PortReservation::reserve(Proto::Tcp, Ipv4Addr{}, port));

  // An address that is not the host's.
  auto e = PortReservation::reserve(Proto::Tcp, ip("192.0.2.254"), 0);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), base::ErrorCode::InvalidArgument);
}

TEST_F(RootNetKernelTest, CrashCleanupRemovesLeftoverLinksRulesAndNamespaces) {
  // What a killed daemon leaves: a bridge, a veth pair into a kept namespace, its table.
  make_bridge(0);
  std::string ns_path = dir_.path() + "/leftover";
  {
    auto ns = NetNs::create(ns_path);
    ASSERT_TRUE(ns);
    EndpointPlan plan =
        plan_endpoint({"dead", bridge(0), "eth0", Ipv4Net{addr(0, 2), 24}, addr(0, 1), 0, {}});
    plan.host_veth = veth(0);
    ASSERT_TRUE(attach_endpoint(*host_, *ns, plan));
    ns->release();
  }
  {
    auto nft = Nft::open();
    ASSERT_TRUE(nft);
    Firewall crashed(std::move(*nft), table_);
    FirewallState s;
    s.networks = {{bridge(0), subnet(0), true, false}};
    s.ports["dead"] = {{Proto::Tcp, Ipv4Addr{}, 18080, addr(0, 2), 80}};
    ASSERT_TRUE(crashed.replace(s));
  }
  // A bridge of the "restarted daemon", still in use, that cleanup must keep.
  make_bridge(1);
  NetNs& live_ns = make_container(1, 2, 1);
  (void)live_ns;

  // The restarted daemon: rebuild the table from its records (only network 1 survives) ...
  FirewallState records;
  records.networks = {{bridge(1), subnet(1), true, false}};
  ASSERT_TRUE(firewall_->replace(records));
  auto listed = firewall_->list();
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->find(bridge(0)), std::string::npos) << *listed;
  EXPECT_EQ(listed->find("18080"), std::string::npos) << *listed;
  EXPECT_NE(listed->find(bridge(1)), std::string::npos) << *listed;

  // ... delete the links the records do not name ...
  std::set<std::string> live = {bridge(1), veth(1)};
  auto deleted = delete_links_with_prefix(*host_, prefix_,
                                          [&](const LinkInfo& l) { return live.contains(l.name); });
  ASSERT_TRUE(deleted) << deleted.error().to_string();
  std::set<std::string> gone(deleted->begin(), deleted->end());
  EXPECT_EQ(gone, (std::set<std::string>{bridge(0), veth(0)}));
  auto left = host_->list_links(prefix_);
  ASSERT_TRUE(left);
  std::set<std::string> names;
  for (const auto& l : *left) {
    names.insert(l.name);
  }
  EXPECT_EQ(names, live);

  // ... and the namespace files no container owns.
  EXPECT_TRUE(is_netns_file(ns_path));
  ASSERT_TRUE(remove_netns(ns_path));
  EXPECT_FALSE(is_netns_file(ns_path));
}

}  // namespace
}  // namespace mydocker::engine::network::kernel
