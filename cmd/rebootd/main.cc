// SPDX-License-Identifier: Apache-2.0
// rebootd: the controller and its command line. Everything is wired in pkg/app.
#include "pkg/app/cli.h"

int main(int argc, char** argv) { return rebootd::app::Main(argc, argv); }
