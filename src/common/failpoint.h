#pragma once
// Crash points for the fault tests (docs/design.md#exactly-once). With
// CLICKFLOW_FAILPOINT=name (or name@N: the N-th time it is reached) the process kills itself
// with SIGKILL at the point called `name`, so a test can stop it between two steps that no
// timing of an outside kill would hit reliably. Compiled in only with CLICKFLOW_FAILPOINTS
// (builds with BUILD_TESTING); elsewhere Failpoint is an empty inline function.
namespace clickflow {

#ifdef CLICKFLOW_FAILPOINTS
void Failpoint(const char* name);
#else
inline void Failpoint(const char* /*name*/) {}
#endif

}  // namespace clickflow
