// SPDX-License-Identifier: Apache-2.0
// The simulator served through http::Server on a loopback port.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/pkg/sim/sim_test_util.h"

namespace rebootd::sim::testing {
namespace {

// One HTTP/1.1 exchange over a fresh loopback connection; returns the raw answer.
std::string RoundTrip(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return "";
  }
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string answer;
  char buffer[4096];
  while (true) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    answer.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer;
}

TEST(SimServer, ServesOverLoopback) {
  SimFixture f;
  ASSERT_TRUE(f.sim->Start().has_value());
  ASSERT_GT(f.sim->Port(), 0);
  EXPECT_EQ(f.sim->BaseUrl(), "http://127.0.0.1:" + std::to_string(f.sim->Port()));
  std::string health = RoundTrip(
      f.sim->Port(), "GET /_sim/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(health.rfind("HTTP/1.1 200", 0), 0u) << health;
  EXPECT_NE(health.find("\r\n\r\nok\n"), std::string::npos) << health;

  TencentCall call;
  call.action = "DescribeInstances";
  http::ServerRequest signed_request = SignTencent(f, call);
  std::string raw = "POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(signed_request.body.size()) + "\r\n";
  for (const auto& [name, value] : signed_request.headers.items) {
    raw += name + ": " + value + "\r\n";
  }
  raw += "\r\n" + signed_request.body;
  std::string answer = RoundTrip(f.sim->Port(), raw);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("\"TotalCount\":4"), std::string::npos) << answer;

  f.sim->SetFaults({{FaultKind::kReset, "", 1.0}});
  signed_request = SignTencent(f, call);
  EXPECT_EQ(RoundTrip(f.sim->Port(), raw).find("HTTP/1.1"), std::string::npos);
  f.sim->Stop();
  EXPECT_EQ(f.sim->BaseUrl(), "");
}

}  // namespace
}  // namespace rebootd::sim::testing
