// SPDX-License-Identifier: Apache-2.0
// A minimal HTTP/1.0 client over a plain POSIX socket, for testing servers on loopback without
// any HTTP library. Blocking, with a receive timeout so a broken server fails instead of hanging.
#pragma once

#include <string>
#include <string_view>

namespace rebootd::metrics::rawhttp {

struct RawResponse {
  int status = 0;    // 0 when no HTTP answer was read
  std::string head;  // status line and header lines
  std::string body;
};

// Sends "METHOD TARGET HTTP/1.0" to 127.0.0.1:port and reads until the server closes.
RawResponse RawRequest(int port, std::string_view method, std::string_view target);

// A socket listening on 127.0.0.1 at a free port, closed on destruction: makes a port busy.
class BusyPort {
 public:
  BusyPort();
  ~BusyPort();
  BusyPort(const BusyPort&) = delete;
  BusyPort& operator=(const BusyPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace rebootd::metrics::rawhttp
