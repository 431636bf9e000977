// SPDX-License-Identifier: Apache-2.0
// Helpers for the pkg/kube tests: request matchers for FakeTransport and object builders.
#pragma once

#include <string>

#include "pkg/json/json.h"
#include "pkg/kube/client.h"
#include "tests/support/fake_transport.h"

namespace rebootd::kube::testutil {

// Matches METHOD and a URL containing `fragment`.
inline testing::FakeTransport::Matcher Call(std::string method, std::string fragment) {
  return [method, fragment](const http::Request& r) -> std::string {
    if (r.method != method || r.url.find(fragment) == std::string::npos) {
      return "want " + method + " *" + fragment + "*, got " + r.method + " " + r.url;
    }
    return "";
  };
}

inline Config TestConfig() {
  Config c;
  c.server = "http://127.0.0.1:6443";
  c.token = "tok";
  return c;
}

inline std::string RebootRequestJson(const std::string& ns, const std::string& name,
                                     const std::string& rv, const std::string& uid = "uid-1",
                                     const std::string& status = "") {
  return R"({"apiVersion":"rebootd.io/v1alpha1","kind":"RebootRequest","metadata":{"name":")" +
         name + R"(","namespace":")" + ns + R"(","uid":")" + uid + R"(","resourceVersion":")" + rv +
         R"(","generation":1},"spec":{"provider":"tencent","instanceIds":["ein-496721al"],)"
         R"("mode":"Soft"})" +
         (status.empty() ? std::string() : ",\"status\":" + status) + "}";
}

inline std::string StatusJson(int code, const std::string& reason, const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":")" + message +
         R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
}

}  // namespace rebootd::kube::testutil
