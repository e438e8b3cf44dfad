// kit/sanitizer.hpp — facts about how this binary was built, for tests whose
// premise a build setting takes away (they skip with the reason).
#pragma once

namespace kit {

// True under ThreadSanitizer (gcc defines __SANITIZE_THREAD__, clang has
// __has_feature). TSan intercepts sigaction and makes system calls of its own,
// so lessons about signal delivery or "no system call at all" skip under it.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif
#else
inline constexpr bool kThreadSanitizer = false;
#endif

}  // namespace kit
