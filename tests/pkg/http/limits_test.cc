// SPDX-License-Identifier: Apache-2.0
// CpprestTransport against broken or hostile peers: bodies and stream lines over the limits end
// the call with a clear error, and memory stays bounded while a peer sends without end.
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "pkg/http/cpprest_transport.h"
#include "pkg/http/server.h"

namespace rebootd::http {
namespace {

using namespace std::chrono_literals;

// Peak resident set size of this process so far (VmHWM), in MiB.
double PeakRssMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

// Peak RSS allowed while a peer sends without end: a generous bound over the limits in play
// (16 MiB bodies, 1 MiB lines), far below what an unbounded read reaches (gigabytes). Sanitizer
// builds keep freed memory in quarantine and add shadow memory, so theirs is looser.
#ifdef REBOOTD_SANITIZED
constexpr double kRssBoundMiB = 512.0;
#else
constexpr double kRssBoundMiB = 128.0;
#endif

CpprestTransportOptions Limits(size_t body, size_t line) {
  CpprestTransportOptions options;
  options.max_body_bytes = body;
  options.max_line_bytes = line;
  return options;
}

// A one-connection loopback peer that answers 200 (or `status`) with a chunked body it never
// ends: 64 KiB chunks of 'x', with a newline every `line_every` bytes (0: never). Stops when
// the client goes away, or after `max_seconds` (a bound on the test, not part of the check).
class EndlessPeer {
 public:
  EndlessPeer(int status, size_t line_every, int max_seconds = 30)
      : status_(status), line_every_(line_every), max_seconds_(max_seconds) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 4);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~EndlessPeer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  size_t sent() const { return sent_.load(); }

 private:
  void Serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    char buf[4096];
    (void)::recv(c, buf, sizeof buf, 0);
    std::string head = "HTTP/1.1 " + std::to_string(status_) +
                       " X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    (void)::send(c, head.data(), head.size(), MSG_NOSIGNAL);
    std::string payload(64 * 1024, 'x');
    if (line_every_ > 0) {
      for (size_t i = line_every_ - 1; i < payload.size(); i += line_every_) payload[i] = '\n';
    }
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", payload.size());
    std::string chunk = size + payload + "\r\n";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(max_seconds_);
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      ssize_t n = ::send(c, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n <= 0) break;  // the client dropped the connection
      sent_ += static_cast<size_t>(n);
    }
    ::close(c);
  }

  int status_;
  size_t line_every_;
  int max_seconds_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> sent_{0};
  std::thread thread_;
};

TEST(TransportLimitsTest, ADeclaredLengthOverTheLimitFailsBeforeTheBodyIsRead) {
  Server server(ServerOptions{}, [](const ServerRequest&) {
    ServerResponse response;
    response.body.assign(2 * 1024 * 1024, 'y');
    return response;
  });
  ASSERT_TRUE(server.Start());
  CpprestTransport transport(Limits(1024 * 1024, 4 * 1024 * 1024));
  Request request;
  request.url = server.BaseUrl() + "/big?Signature=secret-ish";
  request.timeout = 10s;
  auto r = transport.Send(request);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(r.error().ambiguous);
  EXPECT_NE(r.error().message.find("response body larger than 1 MiB"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("secret-ish"), std::string::npos) << r.error().message;
  // Exactly at the limit is fine.
  CpprestTransport roomy(Limits(2 * 1024 * 1024, 4 * 1024 * 1024));
  auto ok = roomy.Send(request);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->body.size(), 2u * 1024 * 1024);
}

TEST(TransportLimitsTest, AnEndlessBodyFailsAtTheLimitAndMemoryStaysBounded) {
  EndlessPeer peer(200, 0);
  CpprestTransport transport;  // the default limit, 16 MiB
  Request request;
  request.url = peer.Url();
  request.timeout = 20s;
  auto start = std::chrono::steady_clock::now();
  auto r = transport.Send(request);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("larger than 16 MiB"), std::string::npos) << r.error().message;
  double peak = PeakRssMiB();
  std::printf("endless body: refused after %.2f s and %.1f MiB sent; peak RSS %.1f MiB\n", seconds,
              peer.sent() / 1048576.0, peak);
  EXPECT_LT(peak, kRssBoundMiB);
}

// The daemon retries a refused call with backoff, so a hostile endpoint refuses again and
// again: no refusal may leave memory behind (heap in use, not RSS, which malloc keeps).
TEST(TransportLimitsTest, RepeatedRefusalsLeaveNoMemoryBehind) {
  CpprestTransport transport(Limits(1024 * 1024, 1024 * 1024));
  auto refuse = [&](bool stream) {
    EndlessPeer peer(200, 0);
    Request request;
    request.url = peer.Url();
    request.timeout = 20s;
    auto r = stream ? transport.Stream(request, [](std::string_view) { return true; })
                    : transport.Send(request);
    EXPECT_FALSE(r);
  };
  refuse(false);
  refuse(true);
  const double before = mallinfo2().uordblks / 1048576.0;
  for (int i = 0; i < 10; ++i) {
    refuse(false);
    refuse(true);
  }
  // cpprestsdk finishes cancelled connections on its own threads: give it a moment (a leak
  // does not go away with time).
  double after = mallinfo2().uordblks / 1048576.0;
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  while (after - before >= 4.0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(20ms);
    after = mallinfo2().uordblks / 1048576.0;
  }
  std::printf("20 refusals: heap in use %.1f MiB -> %.1f MiB\n", before, after);
  EXPECT_LT(after - before, 4.0);
  // Every refused body is dropped by cpprestsdk soon after (not only at exit).
  size_t held = CpprestTransport::AbandonedBodiesHeld();
  while (held > 0 && std::chrono::steady_clock::now() < give_up + 5s) {
    std::this_thread::sleep_for(20ms);
    held = CpprestTransport::AbandonedBodiesHeld();
  }
  EXPECT_EQ(held, 0u);
}

TEST(TransportLimitsTest, AnEndlessErrorBodyIsRefusedToo) {
  EndlessPeer peer(500, 0);
  CpprestTransport transport(Limits(1024 * 1024, 4 * 1024 * 1024));
  Request request;
  request.url = peer.Url();
  request.timeout = 20s;
  auto r = transport.Send(request);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("larger than 1 MiB (HTTP 500)"), std::string::npos)
      << r.error().message;
}

TEST(TransportLimitsTest, AnEndlessStreamLineEndsTheStreamWithAClearError) {
  EndlessPeer peer(200, 0);
  CpprestTransport transport(Limits(16 * 1024 * 1024, 1024 * 1024));
  Request request;
  request.url = peer.Url();
  request.timeout = 20s;
  int lines = 0;
  auto r = transport.Stream(request, [&](std::string_view) {
    ++lines;
    return true;
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("stream line longer than 1 MiB"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(lines, 0);
  std::printf("endless line: peak RSS %.1f MiB\n", PeakRssMiB());
  EXPECT_LT(PeakRssMiB(), kRssBoundMiB);
}

TEST(TransportLimitsTest, ManyShortLinesAreNotLimitedByTheirTotal) {
  // 1 KiB lines without end: the line limit is per line, so the stream runs until the handler
  // has had enough.
  EndlessPeer peer(200, 1024);
  CpprestTransport transport(Limits(16 * 1024 * 1024, 64 * 1024));
  Request request;
  request.url = peer.Url();
  request.timeout = 20s;
  size_t lines = 0;
  auto r = transport.Stream(request, [&](std::string_view line) {
    EXPECT_EQ(line.size(), 1023u);
    return ++lines < 50000;  // 50 MiB in all, far over any single limit
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(lines, 50000u);
}

}  // namespace
}  // namespace rebootd::http
