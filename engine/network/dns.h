// SPDX-License-Identifier: Apache-2.0
// The embedded DNS responder (Docker's 127.0.0.11): containers on user-defined networks
// resolve each other by name, alias and short ID; every other name goes to the host's
// resolvers and their answer is relayed.
//
// Two layers:
//   answer(query bytes, names)  pure: parses the query and returns the reply bytes, or says
//                               "forward" (a name we do not know) or "drop" (not a query)
//   Responder                   a UDP socket and a listening TCP socket it is given, served
//                               by the process's one shared poll loop (one thread for all
//                               responders), forwarding over UDP to the upstreams
//
// The sockets come in bound, so the engine opens them where they must live (inside the
// container's network namespace, on 127.0.0.11:53, with a DNAT/redirect of its own if it
// wants) while the responder's own upstream sockets are opened by the loop's thread, that
// is in the daemon's (the host's) namespace (the thread that starts the first responder must
// be): a host resolver on 127.0.0.53 is reachable, as in
// Docker's "host loopback" forwarding. Names are looked up on every query through `Names`
// (NetworkStore::lookup bound to the container), so containers started or connected later
// resolve at once.
//
// Upstream answers SERVFAIL or REFUSED make the responder try the next upstream (as Docker's
// forwardExtDNS); when all fail or time out the client gets SERVFAIL; NXDOMAIN is relayed.
// Forwarding is over UDP only: a truncated upstream answer is relayed with its TC bit, also to
// a TCP client (a limitation: Docker retries such queries over TCP).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/network/ipam.h"
#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::engine::network::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypePtr = 12;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kClassIn = 1;

inline constexpr int kRcodeNoError = 0;
inline constexpr int kRcodeFormErr = 1;
inline constexpr int kRcodeServFail = 2;
inline constexpr int kRcodeNxDomain = 3;
inline constexpr int kRcodeNotImp = 4;

// Docker's embedded DNS answers with a 600 s TTL.
inline constexpr uint32_t kTtl = 600;

struct Question {
  std::string name;  // dotted, without the final ".", as sent (case kept)
  uint16_t type = 0;
  uint16_t klass = 0;
};

struct Query {
  uint16_t id = 0;
  uint16_t flags = 0;
  Question question;
  size_t question_end = 0;  // offset just after the question
};

// Reads a name at `offset` (advanced past it), following compression pointers (backwards
// only, a bounded number of them). InvalidArgument for a truncated or looping name, a label
// over 63 bytes or a name over 255.
base::Result<std::string> read_name(std::span<const uint8_t> msg, size_t& offset);

// Header and exactly one question. InvalidArgument otherwise (the caller answers FORMERR when
// the header could be read).
base::Result<Query> parse_query(std::span<const uint8_t> msg);

// What the responder knows: `lookup` gives a name's IPv4 addresses (nullopt: unknown,
// forward; empty: known without IPv4); `reverse` an address's name (may be unset).
struct Names {
  std::function<std::optional<std::vector<Ipv4>>(std::string_view name)> lookup;
  std::function<std::optional<std::string>(Ipv4 ip)> reverse;
};

struct Decision {
  enum class Kind { Reply, Forward, Drop };
  Kind kind = Kind::Drop;
  std::string reply;  // Reply: the message to send back
};

// The pure core. Drop: shorter than a header, or a response. FORMERR: an unreadable question
// or a question count other than 1. NOTIMP: an opcode other than QUERY. A known name: A
// records (TTL 600, truncated with TC past `max_size` bytes), AAAA with no answer (NOERROR),
// PTR for a known address. Anything else: Forward, or SERVFAIL when `can_forward` is false.
Decision answer(std::span<const uint8_t> query, const Names& names, bool can_forward,
                size_t max_size = 512);

// A reply carrying only the header (and the question when readable) with `rcode`.
std::string error_reply(std::span<const uint8_t> query, int rcode);

// A standard recursive query for tests and tools.
std::string build_query(uint16_t id, std::string_view name, uint16_t type);

// A parsed answer section (A records as addresses, PTR as names), for tests and tools.
struct Response {
  uint16_t id = 0;
  uint16_t flags = 0;
  int rcode = 0;
  bool truncated = false;
  std::vector<Question> questions;
  std::vector<Ipv4> a;
  std::vector<std::string> ptr;
  uint32_t ttl = 0;  // of the last answer
};
base::Result<Response> parse_response(std::span<const uint8_t> msg);

// /etc/resolv.conf: nameserver (IPv4 kept in order; IPv6 ones are skipped), search, options.
struct ResolvConf {
  std::vector<std::string> nameservers;
  std::vector<std::string> search;
  std::vector<std::string> options;
};
ResolvConf parse_resolv_conf(std::string_view text);

struct Upstream {
  Ipv4 ip = 0;
  uint16_t port = 53;
};

// Docker's embedded resolver address, the one nameserver of a container on a user network.
inline constexpr const char* kEmbeddedAddress = "127.0.0.11";

// The resolv.conf of a container served by the responder (Docker's rebuildDNS):
// "search" (`dns_search` when given, else the host's), "nameserver 127.0.0.11", "options"
// (`dns_options` when given, else the host's) plus ndots:0 unless an ndots option is set.
std::string embedded_resolv_conf(const ResolvConf& host, const std::vector<std::string>& dns_search,
                                 const std::vector<std::string>& dns_options);

// Where the responder forwards: `dns` (--dns, IPv4 only) when given, else the host's
// nameservers, loopback ones included (forwarding leaves from the host's namespace).
std::vector<Upstream> upstreams_for(const ResolvConf& host, const std::vector<std::string>& dns);

struct ResponderOptions {
  std::vector<Upstream> upstreams;
  int timeout_ms = 3000;     // per upstream try
  size_t max_pending = 256;  // forwards in flight; beyond, new ones get SERVFAIL
};

// Serves `udp` (a bound datagram socket) and `tcp` (a listening stream socket, or invalid)
// until stop() or destruction. Every responder of the process is served by one shared poll
// thread (started with the first), so a container on a user network costs its two sockets
// and no thread. Thread-safe: stop() from any thread; once it returns, the responder answers
// nothing more and its names callbacks are not called again.
class Responder {
 public:
  static base::Result<std::unique_ptr<Responder>> start(base::Fd udp, base::Fd tcp, Names names,
                                                        ResponderOptions options);
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  void stop();

  struct State;  // sockets, TCP clients, forwards in flight (dns.cpp)

 private:
  Responder() = default;

  uint64_t key_ = 0;  // its registration with the shared loop
  std::atomic<bool> stopped_{false};
};

}  // namespace mydocker::engine::network::dns
