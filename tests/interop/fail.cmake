# Used by CMakeLists.txt when a prerequisite of the interop tests is missing: the test fails
# (it is never skipped) and says why.
message(FATAL_ERROR "interop: ${MESSAGE}")
