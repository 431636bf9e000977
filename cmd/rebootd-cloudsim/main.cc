// SPDX-License-Identifier: Apache-2.0
// rebootd-cloudsim: flags -> SimOptions -> Simulator. Prints one line when ready
// ("rebootd-cloudsim listening on http://127.0.0.1:PORT"), runs until SIGINT/SIGTERM, exits 0.
// Bad flags: message and exit 2; startup failures: message and exit 1.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/cloud/credentials.h"
#include "pkg/sim/options.h"
#include "pkg/sim/simulator.h"

int main(int argc, char** argv) {
  using namespace rebootd;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto flags = sim::ParseCloudsimFlags(args);
  if (!flags) {
    std::cerr << "rebootd-cloudsim: " << flags.error().message << "\n" << sim::CloudsimUsage();
    return 2;
  }
  if (flags->help) {
    std::cout << sim::CloudsimUsage();
    return 0;
  }
  sim::SimOptions options = flags->sim;
  options.getenv = cloud::ProcessGetenv();
  const bool debug = flags->log_level == "debug" || flags->log_level == "trace";
  if (debug) {
    options.on_call = [](const sim::CallRecord& call) {
      std::fprintf(stderr, "call provider=%s action=%s code=%s status=%d%s%s\n",
                   call.provider.c_str(), call.action.c_str(), call.code.c_str(), call.http_status,
                   call.fault.empty() ? "" : " fault=", call.fault.c_str());
    };
  }

  // Block the stop signals before any thread starts, then wait for them synchronously.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto simulator = sim::Simulator::Create(std::move(options), SystemClock::Instance());
  if (!simulator) {
    std::cerr << "rebootd-cloudsim: " << simulator.error().message << "\n";
    return 2;
  }
  if (auto started = (*simulator)->Start(); !started) {
    std::cerr << "rebootd-cloudsim: " << started.error().message << "\n";
    return 1;
  }
  std::cout << "rebootd-cloudsim listening on " << (*simulator)->BaseUrl() << std::endl;

  int received = 0;
  sigwait(&stop_signals, &received);
  if (flags->log_level != "off" && flags->log_level != "error" && flags->log_level != "warn") {
    std::cerr << "rebootd-cloudsim: stopping on signal " << received << "\n";
  }
  (*simulator)->Stop();
  return 0;
}
