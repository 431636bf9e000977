// SPDX-License-Identifier: Apache-2.0
// The probes under abuse: 1,000 idle connections held open against each of the health and
// metrics servers, plus slow-loris clients trickling headers, while a prober asks /healthz,
// /readyz and /metrics. Each probe must answer within 1 s (a kubelet's default probe timeout);
// the latencies are printed so the figures can be quoted.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "pkg/metrics/health.h"
#include "pkg/metrics/metrics.h"
#include "pkg/metrics/server.h"
#include "tests/pkg/metrics/raw_http.h"

namespace rebootd::metrics {
namespace {

using namespace std::chrono_literals;

constexpr int kIdlePerServer = 1000;
constexpr int kSlowLoris = 50;

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Enough descriptors for the attack (both ends of every loopback connection live in this
// process) or a clear failure: the test must not silently attack with fewer.
bool RaiseDescriptorLimit(rlim_t want) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= want) return true;
  if (limit.rlim_max < want) return false;
  limit.rlim_cur = want;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

struct Latency {
  std::vector<double> ms;
  double Max() const { return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()); }
  double Median() const {
    if (ms.empty()) return 0;
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    return sorted[sorted.size() / 2];
  }
};

// The probe deadline: 1 s, what a kubelet probe allows by default. Sanitizer builds run the
// server several times slower (and spawn its 1,000 threads slower), so they get 3 s; the
// figure to quote is the normal build's.
#ifdef REBOOTD_SANITIZED
constexpr double kProbeDeadlineMs = 3000.0;
#else
constexpr double kProbeDeadlineMs = 1000.0;
#endif

// Every probe answered 200 within the deadline; fills `latency`.
void Probe(int port, const std::string& path, int times, Latency* latency) {
  for (int i = 0; i < times; ++i) {
    auto start = std::chrono::steady_clock::now();
    rawhttp::RawResponse response = rawhttp::RawRequest(port, "GET", path);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    latency->ms.push_back(ms);
    EXPECT_EQ(response.status, 200) << path << " attempt " << i << ": " << response.head;
    EXPECT_LT(ms, kProbeDeadlineMs) << path << " attempt " << i;
  }
}

TEST(ProbeAbuseTest, ProbesAnswerWithin1sUnder1000IdleConnectionsAndSlowLoris) {
  ASSERT_TRUE(RaiseDescriptorLimit(8192)) << "need RLIMIT_NOFILE >= 8192 for this test";
  auto registry = std::make_shared<prometheus::Registry>();
  Metrics metrics(*registry, "abuse-test");
  auto metrics_server = MetricsServer::Start("127.0.0.1:0", registry);
  ASSERT_TRUE(metrics_server.has_value()) << metrics_server.error().ToString();
  HealthOptions health_options;
  health_options.bind_address = "127.0.0.1:0";
  auto health_server = HealthServer::Start(health_options);
  ASSERT_TRUE(health_server.has_value()) << health_server.error().ToString();
  const int health_port = (*health_server)->Port();
  const int metrics_port = (*metrics_server)->Port();

  // 1,000 idle connections held open against each server: connected, never a byte sent.
  std::vector<int> idle;
  for (int port : {health_port, metrics_port}) {
    for (int i = 0; i < kIdlePerServer; ++i) {
      int fd = Connect(port);
      ASSERT_GE(fd, 0) << "connection " << i << " to port " << port;
      idle.push_back(fd);
    }
  }

  // Slow loris: a header line every 100 ms on each of 50 connections per server, for as long
  // as the probing lasts; reconnects whenever the server closes one.
  std::atomic<bool> stop{false};
  std::atomic<int> loris_reconnects{0};
  std::thread loris([&] {
    std::vector<std::pair<int, int>> conns;  // (fd, port)
    for (int port : {health_port, metrics_port}) {
      for (int i = 0; i < kSlowLoris; ++i) {
        int fd = Connect(port);
        if (fd >= 0) {
          std::string start = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
          ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
        }
        conns.emplace_back(fd, port);
      }
    }
    int line = 0;
    while (!stop.load()) {
      std::this_thread::sleep_for(100ms);
      std::string header = "X-Loris-" + std::to_string(line++) + ": y\r\n";
      for (auto& [fd, port] : conns) {
        if (fd >= 0 && ::send(fd, header.data(), header.size(), MSG_NOSIGNAL) > 0) continue;
        if (fd >= 0) ::close(fd);
        fd = Connect(port);
        ++loris_reconnects;
        if (fd >= 0) {
          std::string start = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
          ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
        }
      }
    }
    for (auto& [fd, port] : conns) {
      if (fd >= 0) ::close(fd);
    }
  });
  std::this_thread::sleep_for(300ms);  // the trickle is under way

  Latency healthz, readyz, scrape;
  for (int round = 0; round < 10; ++round) {
    Probe(health_port, "/healthz", 1, &healthz);
    Probe(health_port, "/readyz", 1, &readyz);
    Probe(metrics_port, "/metrics", 1, &scrape);
    std::this_thread::sleep_for(100ms);
  }
  stop = true;
  loris.join();
  std::printf(
      "probe latency under %d idle + %d slow-loris connections per server: /healthz median "
      "%.1f ms max %.1f ms; /readyz median %.1f ms max %.1f ms; /metrics median %.1f ms max "
      "%.1f ms (slow-loris reconnects %d)\n",
      kIdlePerServer, kSlowLoris, healthz.Median(), healthz.Max(), readyz.Median(), readyz.Max(),
      scrape.Median(), scrape.Max(), loris_reconnects.load());
  for (int fd : idle) ::close(fd);
}

}  // namespace
}  // namespace rebootd::metrics
