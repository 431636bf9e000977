// SPDX-License-Identifier: Apache-2.0
// Kubernetes watch streams: any body (lines of JSON watch events, ERROR events, garbage) is
// decoded by the real client without crashing, and every object it hands on goes through the
// same RebootRequest decoding the Kubernetes source uses.
#include <cstddef>
#include <cstdint>

#include "pkg/api/codec.h"
#include "pkg/base/clock.h"
#include "pkg/kube/client.h"
#include "tests/fuzz/fuzz_util.h"

using namespace rebootd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::FunctionTransport transport([&](const http::Request&) -> Result<http::Response> {
    http::Response r;
    r.status = 200;
    r.body.assign(reinterpret_cast<const char*>(data), size);
    r.headers.Set("Content-Type", "application/json");
    return r;
  });
  ManualClock clock;
  kube::Config config;
  config.server = "http://127.0.0.1:9";
  kube::Client client(config, transport, clock);
  int events = 0;
  Status st = client.Watch(kube::RebootRequests(), "", kube::WatchOptions{},
                           [&](const kube::WatchEvent& event) {
                             ++events;
                             FUZZ_CHECK(!event.type.empty(), "an event without a type");
                             (void)api::FromJson(event.object);
                             return events < 1000;
                           });
  (void)st;
  return 0;
}
