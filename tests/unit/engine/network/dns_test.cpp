// SPDX-License-Identifier: Apache-2.0
// The DNS responder: the pure core on hand-built packets, then a Responder serving on
// 127.0.0.1:<random> with a fake upstream on 127.0.0.1 (never an outside address).
#include "engine/network/dns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

namespace mydocker::engine::network::dns {
namespace {

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Ipv4 ip(const char* text) {
  return *parse_ipv4(text);
}

Names table() {
  Names n;
  n.lookup = [](std::string_view name) -> std::optional<std::vector<Ipv4>> {
    std::string lower;
    for (char c : name) {
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (lower == "web" || lower == "web-alias") {
      return std::vector<Ipv4>{ip("10.40.0.2")};
    }
    if (lower == "many") {
      std::vector<Ipv4> v;
      for (Ipv4 i = 0; i < 100; ++i) {
        v.push_back(ip("10.50.0.0") + i);
      }
      return v;
    }
    return std::nullopt;
  };
  n.reverse = [](Ipv4 a) -> std::optional<std::string> {
    if (a == ip("10.40.0.2")) {
      return std::string("web.net-a");
    }
    return std::nullopt;
  };
  return n;
}

Response parsed(const Decision& d) {
  EXPECT_EQ(d.kind, Decision::Kind::Reply);
  auto r = parse_response(bytes(d.reply));
  EXPECT_TRUE(r) << r.error().message();
  return r.value_or(Response{});
}

TEST(DnsCore, AnswersContainerNamesCaseInsensitively) {
  for (const char* name : {"web", "WEB", "web-alias"}) {
    auto r = parsed(answer(bytes(build_query(0x1234, name, kTypeA)), table(), true));
    EXPECT_EQ(r.id, 0x1234);
    EXPECT_EQ(r.rcode, kRcodeNoError);
    EXPECT_TRUE(r.flags & 0x8000);  // QR
    EXPECT_TRUE(r.flags & 0x0100);  // RD echoed
    EXPECT_TRUE(r.flags & 0x0080);  // RA
    ASSERT_EQ(r.questions.size(), 1u);
    EXPECT_EQ(r.questions[0].name, name);
    ASSERT_EQ(r.a.size(), 1u);
    EXPECT_EQ(format_ipv4(r.a[0]), "10.40.0.2");
    EXPECT_EQ(r.ttl, 600u);
  }
}

TEST(DnsCore, AaaaOfAKnownNameIsEmptyNoError) {
  auto r = parsed(answer(bytes(build_query(7, "web", kTypeAaaa)), table(), true));
  EXPECT_EQ(r.rcode, kRcodeNoError);
  EXPECT_TRUE(r.a.empty());
  EXPECT_EQ(r.questions.at(0).type, kTypeAaaa);
}

TEST(DnsCore, PtrForAContainerAddress) {
  auto r = parsed(answer(bytes(build_query(8, "2.0.40.10.in-addr.arpa", kTypePtr)), table(), true));
  ASSERT_EQ(r.ptr.size(), 1u);
  EXPECT_EQ(r.ptr[0], "web.net-a");
  EXPECT_EQ(answer(bytes(build_query(8, "3.0.40.10.in-addr.arpa", kTypePtr)), table(), true).kind,
            Decision::Kind::Forward);
}

TEST(DnsCore, UnknownNamesForwardOrServfail) {
  auto q = build_query(9, "example.com", kTypeA);
  EXPECT_EQ(answer(bytes(q), table(), true).kind, Decision::Kind::Forward);
  auto r = parsed(answer(bytes(q), table(), false));
  EXPECT_EQ(r.rcode, kRcodeServFail);
  EXPECT_EQ(r.questions.at(0).name, "example.com");
  // Other types of known names go out too (as Docker), e.g. MX.
  EXPECT_EQ(answer(bytes(build_query(9, "web", 15)), table(), true).kind, Decision::Kind::Forward);
}

TEST(DnsCore, ManyAddressesAreTruncatedToFit) {
  auto d = answer(bytes(build_query(10, "many", kTypeA)), table(), true);
  EXPECT_LE(d.reply.size(), 512u);
  auto r = parsed(d);
  EXPECT_TRUE(r.truncated);
  EXPECT_GT(r.a.size(), 20u);
  EXPECT_LT(r.a.size(), 100u);
  auto tcp = parsed(answer(bytes(build_query(10, "many", kTypeA)), table(), true, 65535));
  EXPECT_FALSE(tcp.truncated);
  EXPECT_EQ(tcp.a.size(), 100u);
}

TEST(DnsCore, CompressionPointersInTheQuestion) {
  // Header, then "web" at offset 12 reached through a pointer: a question name that is a
  // pointer back into... itself is refused; a valid backwards pointer works in records.
  std::string msg = build_query(11, "a.web", kTypeA);
  size_t at = 12;
  auto name = read_name(bytes(msg), at);
  ASSERT_TRUE(name);
  EXPECT_EQ(*name, "a.web");
  // A second name "x" + pointer to offset 14 ("web") appended after the question.
  std::string tail = std::string("\x01x\xc0\x0e", 4);
  std::string with_ptr = msg + tail;
  size_t at2 = msg.size();
  auto second = read_name(bytes(with_ptr), at2);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(*second, "x.web");
  EXPECT_EQ(at2, with_ptr.size());  // advanced past the pointer only
  // Question name given as a pointer (to itself: forward/self pointers are refused).
  std::string self = std::string("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12) +
                     std::string("\xc0\x0c\x00\x01\x00\x01", 6);
  auto d = answer(bytes(self), table(), true);
  EXPECT_EQ(parsed(d).rcode, kRcodeFormErr);
}

TEST(DnsCore, MalformedInputIsRefusedWithoutCrashing) {
  std::string good = build_query(12, "web", kTypeA);
  // Every truncation of a good query: a drop (short header) or FORMERR, never a crash.
  for (size_t n = 0; n < good.size(); ++n) {
    std::string cut = good.substr(0, n);
    auto d = answer(bytes(cut), table(), true);
    if (n < 12) {
      EXPECT_EQ(d.kind, Decision::Kind::Drop) << n;
    } else {
      EXPECT_EQ(parsed(d).rcode, kRcodeFormErr) << n;
    }
  }
  // A response is never answered (two resolvers could loop).
  std::string response = good;
  response[2] = static_cast<char>(response[2] | 0x80);
  EXPECT_EQ(answer(bytes(response), table(), true).kind, Decision::Kind::Drop);
  // Two questions: FORMERR. Opcode 2 (STATUS): NOTIMP.
  std::string two = good;
  two[5] = 2;
  EXPECT_EQ(parsed(answer(bytes(two), table(), true)).rcode, kRcodeFormErr);
  std::string status = good;
  status[2] = static_cast<char>(status[2] | (2 << 3));
  EXPECT_EQ(parsed(answer(bytes(status), table(), true)).rcode, kRcodeNotImp);
  // A label of 64 bytes (bad label type bits), a name over 255 bytes.
  std::string bad_label = good.substr(0, 12) + "\x40" + std::string(64, 'a') + std::string(5, '\0');
  EXPECT_EQ(parsed(answer(bytes(bad_label), table(), true)).rcode, kRcodeFormErr);
  std::string long_name = good.substr(0, 12);
  for (int i = 0; i < 5; ++i) {
    long_name += "\x3f" + std::string(63, 'b');
  }
  long_name += std::string("\x00\x00\x01\x00\x01", 5);
  EXPECT_EQ(parsed(answer(bytes(long_name), table(), true)).rcode, kRcodeFormErr);
  // Random garbage of every length up to 64 bytes.
  uint32_t seed = 1;
  for (size_t n = 0; n < 64; ++n) {
    std::string junk;
    for (size_t i = 0; i < n; ++i) {
      seed = seed * 1103515245 + 12345;
      junk.push_back(static_cast<char>(seed >> 16));
    }
    (void)answer(bytes(junk), table(), true);
    (void)parse_response(bytes(junk));
  }
}

TEST(ResolvConf, Parse) {
  auto rc = parse_resolv_conf(
      "# comment\nnameserver 127.0.0.53\nnameserver ::1\nnameserver\t10.0.0.2\n"
      "search a.example b.example\noptions edns0 trust-ad\n; x\n");
  EXPECT_EQ(rc.nameservers, (std::vector<std::string>{"127.0.0.53", "10.0.0.2"}));
  EXPECT_EQ(rc.search, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(rc.options, (std::vector<std::string>{"edns0", "trust-ad"}));
}

TEST(ResolvConf, EmbeddedFileAndUpstreams) {
  auto host = parse_resolv_conf("nameserver 127.0.0.53\nsearch corp.example\noptions edns0\n");
  EXPECT_EQ(embedded_resolv_conf(host, {}, {}),
            "search corp.example\nnameserver 127.0.0.11\noptions edns0 ndots:0\n");
  EXPECT_EQ(embedded_resolv_conf(host, {"a.test"}, {"ndots:2"}),
            "search a.test\nnameserver 127.0.0.11\noptions ndots:2\n");
  EXPECT_EQ(embedded_resolv_conf({}, {}, {}), "nameserver 127.0.0.11\noptions ndots:0\n");
  auto up = upstreams_for(host, {});
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(format_ipv4(up[0].ip), "127.0.0.53");
  EXPECT_EQ(up[0].port, 53);
  up = upstreams_for(host, {"10.0.0.2", "fd00::1", "127.0.0.11"});
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(format_ipv4(up[0].ip), "10.0.0.2");
}

// --- Over loopback ---

base::Fd udp_socket(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return base::Fd::adopt(fd);
}

base::Fd tcp_listener(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  EXPECT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return base::Fd::adopt(fd);
}

// A fake upstream on 127.0.0.1: example.test -> 192.0.2.7, servfail.test -> SERVFAIL,
// silent.test -> no answer, anything else -> NXDOMAIN.
class FakeUpstream {
 public:
  explicit FakeUpstream(std::string label) : label_(std::move(label)) {
    fd_ = udp_socket(&port_);
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    stop_r_ = base::Fd::adopt(p[0]);
    stop_w_ = base::Fd::adopt(p[1]);
    thread_ = std::thread([this] { run(); });
  }
  ~FakeUpstream() {
    (void)!::write(stop_w_.get(), "x", 1);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int queries() const { return queries_.load(); }

 private:
  void run() {
    while (true) {
      pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {stop_r_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 || fds[1].revents != 0) {
        return;
      }
      uint8_t buf[512];
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      ssize_t n =
          ::recvfrom(fd_.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) {
        continue;
      }
      ++queries_;
      auto q = parse_query(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
      if (!q) {
        continue;
      }
      std::string question(reinterpret_cast<const char*>(buf + 12), q->question_end - 12);
      std::string out;
      auto put16 = [&](uint16_t v) {
        out.push_back(static_cast<char>(v >> 8));
        out.push_back(static_cast<char>(v & 0xff));
      };
      const std::string& name = q->question.name;
      if (name == "silent.test") {
        continue;
      }
      int rcode = name == "servfail.test" ? 2 : name == "example.test" ? 0 : 3;
      bool ok = rcode == 0;
      put16(q->id);
      put16(static_cast<uint16_t>(0x8180 | rcode));
      put16(1);
      put16(ok ? 1 : 0);
      put16(0);
      put16(0);
      out += question;
      if (ok) {
        put16(0xc00c);
        put16(kTypeA);
        put16(kClassIn);
        put16(0);
        put16(label_ == "second" ? 30 : 60);  // TTL tells which upstream answered
        put16(4);
        out += std::string("\xc0\x00\x02\x07", 4);
      }
      ::sendto(fd_.get(), out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  std::string label_;
  base::Fd fd_;
  uint16_t port_ = 0;
  base::Fd stop_r_, stop_w_;
  std::atomic<int> queries_{0};
  std::thread thread_;
};

Response ask_udp(uint16_t port, const std::string& query, int timeout_ms = 5000) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  base::Fd s = base::Fd::adopt(fd);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)),
            static_cast<ssize_t>(query.size()));
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) {
    ADD_FAILURE() << "no answer";
    return {};
  }
  uint8_t buf[4096];
  ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  auto r = parse_response(std::span<const uint8_t>(buf, n > 0 ? static_cast<size_t>(n) : 0));
  EXPECT_TRUE(r);
  return r.value_or(Response{});
}

Response ask_tcp(uint16_t port, const std::string& query) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  base::Fd s = base::Fd::adopt(fd);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  std::string framed;
  framed.push_back(static_cast<char>(query.size() >> 8));
  framed.push_back(static_cast<char>(query.size() & 0xff));
  framed += query;
  // Sent in two pieces: the responder must reassemble.
  EXPECT_EQ(::send(fd, framed.data(), 1, 0), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(::send(fd, framed.data() + 1, framed.size() - 1, 0),
            static_cast<ssize_t>(framed.size() - 1));
  std::string in;
  uint8_t buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) {
      ADD_FAILURE() << "no tcp answer";
      return {};
    }
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      ADD_FAILURE() << "tcp closed";
      return {};
    }
    in.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
    if (in.size() >= 2) {
      size_t len = (static_cast<uint8_t>(in[0]) << 8) | static_cast<uint8_t>(in[1]);
      if (in.size() >= 2 + len) {
        auto r = parse_response(bytes(in.substr(2, len)));
        EXPECT_TRUE(r);
        return r.value_or(Response{});
      }
    }
  }
}

TEST(DnsResponder, ServesNamesAndForwardsOverLoopback) {
  FakeUpstream first("first");
  FakeUpstream second("second");
  uint16_t udp_port = 0;
  uint16_t tcp_port = 0;
  base::Fd udp = udp_socket(&udp_port);
  base::Fd tcp = tcp_listener(&tcp_port);
  // A live table: names added after start resolve at once.
  auto mu = std::make_shared<std::mutex>();
  auto extra = std::make_shared<std::map<std::string, Ipv4>>();
  Names names = table();
  auto base_lookup = names.lookup;
  names.lookup = [=](std::string_view name) -> std::optional<std::vector<Ipv4>> {
    {
      std::lock_guard lock(*mu);
      if (auto it = extra->find(std::string(name)); it != extra->end()) {
        return std::vector<Ipv4>{it->second};
      }
    }
    return base_lookup(name);
  };
  ResponderOptions o;
  o.upstreams = {{ip("127.0.0.1"), first.port()}, {ip("127.0.0.1"), second.port()}};
  o.timeout_ms = 300;
  auto r = Responder::start(std::move(udp), std::move(tcp), names, o);
  ASSERT_TRUE(r) << r.error().message();

  auto local = ask_udp(udp_port, build_query(1, "web", kTypeA));
  EXPECT_EQ(local.id, 1);
  ASSERT_EQ(local.a.size(), 1u);
  EXPECT_EQ(format_ipv4(local.a[0]), "10.40.0.2");
  EXPECT_EQ(first.queries(), 0);

  EXPECT_EQ(ask_udp(udp_port, build_query(2, "late", kTypeA)).rcode, kRcodeNxDomain);
  {
    std::lock_guard lock(*mu);
    (*extra)["late"] = ip("10.40.0.9");
  }
  auto late = ask_udp(udp_port, build_query(3, "late", kTypeA));
  ASSERT_EQ(late.a.size(), 1u);
  EXPECT_EQ(format_ipv4(late.a[0]), "10.40.0.9");

  // Forwarded, answered by the first upstream.
  auto fwd = ask_udp(udp_port, build_query(4, "example.test", kTypeA));
  EXPECT_EQ(fwd.id, 4);
  EXPECT_EQ(fwd.rcode, kRcodeNoError);
  ASSERT_EQ(fwd.a.size(), 1u);
  EXPECT_EQ(format_ipv4(fwd.a[0]), "192.0.2.7");
  EXPECT_EQ(fwd.ttl, 60u);
  // NXDOMAIN is relayed as is.
  EXPECT_EQ(ask_udp(udp_port, build_query(5, "nosuch.test", kTypeA)).rcode, kRcodeNxDomain);
  // SERVFAIL from both: the client gets SERVFAIL (both were asked).
  int before = second.queries();
  EXPECT_EQ(ask_udp(udp_port, build_query(6, "servfail.test", kTypeA)).rcode, kRcodeServFail);
  EXPECT_EQ(second.queries(), before + 1);
  // Silence: each upstream times out, then SERVFAIL.
  EXPECT_EQ(ask_udp(udp_port, build_query(7, "silent.test", kTypeA)).rcode, kRcodeServFail);

  // TCP: local and forwarded.
  auto over_tcp = ask_tcp(tcp_port, build_query(8, "WEB-alias", kTypeA));
  ASSERT_EQ(over_tcp.a.size(), 1u);
  EXPECT_EQ(format_ipv4(over_tcp.a[0]), "10.40.0.2");
  auto tcp_fwd = ask_tcp(tcp_port, build_query(9, "example.test", kTypeA));
  ASSERT_EQ(tcp_fwd.a.size(), 1u);
  EXPECT_EQ(format_ipv4(tcp_fwd.a[0]), "192.0.2.7");

  // Garbage does not stop the responder.
  {
    std::string junk = "\x01\x02\x03";
    ask_udp(udp_port, build_query(10, "web", kTypeA));
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    base::Fd s = base::Fd::adopt(fd);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(udp_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::sendto(fd, junk.data(), junk.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
  EXPECT_EQ(ask_udp(udp_port, build_query(11, "web", kTypeA)).a.size(), 1u);
  (*r)->stop();
}

TEST(DnsResponder, FallsBackWhenTheFirstUpstreamIsGone) {
  uint16_t dead_port = 0;
  { base::Fd closed = udp_socket(&dead_port); }  // nothing listens there any more
  FakeUpstream alive("second");
  uint16_t udp_port = 0;
  base::Fd udp = udp_socket(&udp_port);
  ResponderOptions o;
  o.upstreams = {{ip("127.0.0.1"), dead_port}, {ip("127.0.0.1"), alive.port()}};
  o.timeout_ms = 300;
  auto r = Responder::start(std::move(udp), base::Fd(), table(), o);
  ASSERT_TRUE(r);
  auto fwd = ask_udp(udp_port, build_query(1, "example.test", kTypeA));
  ASSERT_EQ(fwd.a.size(), 1u);
  EXPECT_EQ(fwd.ttl, 30u);  // the second one answered
}

TEST(DnsResponder, WithoutUpstreamsUnknownNamesAreServfail) {
  uint16_t udp_port = 0;
  base::Fd udp = udp_socket(&udp_port);
  auto r = Responder::start(std::move(udp), base::Fd(), table(), {});
  ASSERT_TRUE(r);
  EXPECT_EQ(ask_udp(udp_port, build_query(1, "example.test", kTypeA)).rcode, kRcodeServFail);
  EXPECT_EQ(ask_udp(udp_port, build_query(2, "web", kTypeA)).a.size(), 1u);
}

size_t thread_count() {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

TEST(DnsResponder, ManyRespondersShareOneThreadAndStopAlone) {
  // Warm the shared loop up, so its thread is already counted.
  uint16_t warm_port = 0;
  auto warm = Responder::start(udp_socket(&warm_port), base::Fd(), table(), {});
  ASSERT_TRUE(warm);
  size_t threads = thread_count();
  std::vector<std::unique_ptr<Responder>> rs;
  std::vector<uint16_t> ports;
  for (int i = 0; i < 20; ++i) {
    uint16_t port = 0;
    auto r = Responder::start(udp_socket(&port), base::Fd(), table(), {});
    ASSERT_TRUE(r) << r.error().message();
    rs.push_back(std::move(*r));
    ports.push_back(port);
  }
  EXPECT_EQ(thread_count(), threads);
  for (size_t i = 0; i < ports.size(); ++i) {
    EXPECT_EQ(ask_udp(ports[i], build_query(static_cast<uint16_t>(i + 1), "web", kTypeA)).a.size(),
              1u);
  }
  // Stopping some leaves the others serving.
  for (size_t i = 0; i < rs.size(); i += 2) {
    rs[i]->stop();
  }
  for (size_t i = 1; i < ports.size(); i += 2) {
    EXPECT_EQ(ask_udp(ports[i], build_query(7, "web", kTypeA)).a.size(), 1u);
  }
  rs.clear();
  EXPECT_EQ(ask_udp(warm_port, build_query(8, "web", kTypeA)).a.size(), 1u);
}

}  // namespace
}  // namespace mydocker::engine::network::dns
