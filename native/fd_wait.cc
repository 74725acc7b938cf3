// SPDX-License-Identifier: MIT
// Waiting for a dma-buf or sync_file to become ready without blocking the event loop and without
// taking a thread-pool thread: a uv_poll on the calling environment's own loop (napi_get_uv_event_loop,
// never uv_default_loop, so it works inside worker_threads), plus a uv_timer for the timeout.
// dma-buf fds poll readable once no writer fence is pending and writable once no fence at all is;
// a sync_file polls readable once signalled (Documentation/driver-api/dma-buf.rst, poll(2)).
//
// Each wait polls its own dup() of the fd: libuv allows one poll handle per fd number, and the dup keeps
// the file alive if JS closes its fd meanwhile. Both handles start unreferenced, so a wait keeps the
// process alive only once JS asks for it (waitRef, done when the result is awaited).
//
// The timeout never wins over a ready fd: libuv runs timers before it polls, so when the timer fires the fd
// is looked at once more (poll(2), zero timeout) and a ready fd is reported ready. A timeout of 0 is thus a
// truthful non-blocking check. When the environment ends, its handles are closed and its teardown waits
// (an async cleanup hook) until their close callbacks have run: this module's code may be unloaded after.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <memory>

#include "addon.h"
#include "args.h"
#include "entry.h"
#include "errors.h"
#include "ioctl.h"
#include "result.h"

namespace drm_gpuvm {

/** A pending wait. Owned by AddonData::waits until finished, then by its two closing handles. */
struct FdWait {
  uint32_t id = 0;
  napi_env env = nullptr;
  AddonData* data = nullptr;
  int fd = -1;
  uv_poll_t poll{};
  uv_timer_t timer{};
  int events = 0;
  int open_handles = 0;
  Napi::FunctionReference callback;
  std::unique_ptr<Napi::AsyncContext> context;
};

namespace {

// Results passed to the JS callback.
constexpr int kReady = 0;
constexpr int kTimedOut = 1;
constexpr int kCancelled = 2;

void OnHandleClosed(uv_handle_t* handle) {
  auto* wait = static_cast<FdWait*>(handle->data);
  AddonData* data = wait->data;
  if (--wait->open_handles == 0) delete wait;
  if (--data->closing_handles == 0 && data->teardown != nullptr) {
    napi_async_cleanup_hook_handle teardown = data->teardown;
    data->teardown = nullptr;
    napi_remove_async_cleanup_hook(teardown);
  }
}

// Stops and closes the handles; the FdWait is deleted once both have closed.
void Release(FdWait* wait) {
  uv_poll_stop(&wait->poll);
  uv_timer_stop(&wait->timer);
  close(wait->fd);
  wait->fd = -1;
  wait->data->closing_handles += 2;
  uv_close(reinterpret_cast<uv_handle_t*>(&wait->poll), OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&wait->timer), OnHandleClosed);
}

// Whether the wait's fd is ready now (poll(2) with a zero timeout).
bool ReadyNow(const FdWait* wait) {
  struct pollfd entry {};
  entry.fd = wait->fd;
  entry.events = static_cast<short>((wait->events & UV_WRITABLE) != 0 ? POLLOUT : POLLIN);
  return RetryOnEintr([&] { return poll(&entry, 1, 0); }) > 0 && (entry.revents & entry.events) != 0;
}

// Ends a wait once: unlists it, calls JS with `result` (or a negative errno), releases the handles.
void Finish(FdWait* wait, int result) {
  Napi::Env env(wait->env);
  wait->data->waits.erase(wait->id);
  Napi::FunctionReference callback = std::move(wait->callback);
  std::unique_ptr<Napi::AsyncContext> context = std::move(wait->context);
  Release(wait);
  Napi::HandleScope scope(env);
  try {
    // MakeCallback (not Call) so promise reactions queued by the callback run before returning to libuv.
    callback.MakeCallback(env.Global(), {Napi::Number::New(env, result)}, *context);
  } catch (const Napi::Error& error) {
    napi_fatal_exception(env, error.Value());
  } catch (...) {
    // No C++ exception may unwind into libuv; the wait is already released.
  }
}

void OnPoll(uv_poll_t* handle, int status, int events) {
  auto* wait = static_cast<FdWait*>(handle->data);
  if (status < 0) return Finish(wait, status);
  if ((events & wait->events) != 0) Finish(wait, kReady);
}

void OnTimer(uv_timer_t* handle) {
  auto* wait = static_cast<FdWait*>(handle->data);
  Finish(wait, ReadyNow(wait) ? kReady : kTimedOut);
}

FdWait* Find(const Napi::CallbackInfo& info) {
  uint32_t id = ArgU32(info, 0, "id");
  auto& waits = Data(info.Env()).waits;
  auto it = waits.find(id);
  return it == waits.end() ? nullptr : it->second;
}

// waitStart(fd, writable, timeoutMs, callback) -> id. writable=false waits for readable (POLLIN: no
// pending writer), true for writable (POLLOUT: nothing pending). timeoutMs < 0 means no timeout.
// The callback gets 0 (ready), 1 (timed out), 2 (cancelled) or a negative errno.
Napi::Value WaitStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  bool writable = ArgBool(info, 1, "writable");
  if (info.Length() < 3 || !info[2].IsNumber()) {
    throw CodedTypeError(env, "ERR_INVALID_ARG_TYPE", "The \"timeoutMs\" argument must be a number");
  }
  double timeout_ms = info[2].As<Napi::Number>().DoubleValue();
  if (timeout_ms != timeout_ms || timeout_ms > 4294967295.0) {
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE", "The value of \"timeoutMs\" must be below 2^32");
  }
  Napi::Function callback = ArgFunction(info, 3, "callback");

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    throw CodedError(env, "ERR_DRM_NO_EVENT_LOOP", "this environment has no event loop to wait on");
  }
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) throw SyscallError(env, errno, "fcntl");
  AddonData& data = Data(env);
  std::unique_ptr<FdWait> owner;
  try {
    owner = std::make_unique<FdWait>();
  } catch (...) {
    close(copy);
    throw;
  }
  FdWait* wait = owner.get();
  wait->fd = copy;
  int status = uv_poll_init(loop, &wait->poll, copy);
  if (status < 0) {
    close(copy);
    throw SyscallError(env, -status, "epoll_ctl");
  }
  uv_timer_init(loop, &wait->timer);
  // From here on the handles belong to the loop: any failure goes through Release, which frees the wait
  // once libuv has closed both.
  (void)owner.release();
  wait->env = env;
  wait->data = &data;
  wait->events = writable ? UV_WRITABLE : UV_READABLE;
  wait->open_handles = 2;
  wait->poll.data = wait;
  wait->timer.data = wait;
  uv_unref(reinterpret_cast<uv_handle_t*>(&wait->poll));
  uv_unref(reinterpret_cast<uv_handle_t*>(&wait->timer));
  try {
    wait->callback = Napi::Persistent(callback);
    wait->context = std::make_unique<Napi::AsyncContext>(env, "drm-gpuvm:fd-wait");
    wait->id = data.next_wait_id++;
    if (data.next_wait_id == 0) data.next_wait_id = 1;
    data.waits[wait->id] = wait;
  } catch (...) {
    Release(wait);
    throw;
  }
  status = uv_poll_start(&wait->poll, wait->events, OnPoll);
  if (status < 0) {
    data.waits.erase(wait->id);
    Release(wait);
    throw SyscallError(env, -status, "epoll_ctl");
  }
  if (timeout_ms >= 0) {
    // The loop's clock is cached at the start of each iteration; without a refresh the timeout would
    // count from then and could end early.
    uv_update_time(loop);
    uv_timer_start(&wait->timer, OnTimer, static_cast<uint64_t>(timeout_ms), 0);
  }
  uint32_t id = wait->id;
  return Napi::Number::New(env, id);
}

// waitRef(id, keepAlive): whether the wait keeps the event loop (and the process) alive. false for a
// wait that has already finished.
Napi::Value WaitRef(const Napi::CallbackInfo& info) {
  bool keep_alive = ArgBool(info, 1, "keepAlive");
  FdWait* wait = Find(info);
  if (wait == nullptr) return Napi::Boolean::New(info.Env(), false);
  for (uv_handle_t* handle :
       {reinterpret_cast<uv_handle_t*>(&wait->poll), reinterpret_cast<uv_handle_t*>(&wait->timer)}) {
    if (keep_alive) uv_ref(handle);
    else uv_unref(handle);
  }
  return Napi::Boolean::New(info.Env(), true);
}

// waitCancel(id): finishes the wait with result 2 (cancelled); false when it had already finished.
Napi::Value WaitCancel(const Napi::CallbackInfo& info) {
  FdWait* wait = Find(info);
  if (wait == nullptr) return Napi::Boolean::New(info.Env(), false);
  Finish(wait, kCancelled);
  return Napi::Boolean::New(info.Env(), true);
}

// pollNow(fd) -> { readable, writable }: a zero-timeout poll(2), the busy/idle check.
Napi::Value PollNow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct pollfd entry {};
  entry.fd = ArgFd(info, 0, "fd");
  entry.events = POLLIN | POLLOUT;
  if (RetryOnEintr([&] { return poll(&entry, 1, 0); }) < 0) throw SyscallError(env, errno, "poll");
  if ((entry.revents & POLLNVAL) != 0) throw SyscallError(env, EBADF, "poll");
  return DataObject(env, {{"readable", Napi::Boolean::New(env, (entry.revents & POLLIN) != 0)},
                          {"writable", Napi::Boolean::New(env, (entry.revents & POLLOUT) != 0)}});
}

// pendingWaits() -> number of unfinished waits (for leak tests).
Napi::Value PendingWaits(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Data(info.Env()).waits.size()));
}

}  // namespace

void CloseAllWaits(AddonData& data) {
  for (auto& entry : data.waits) {
    FdWait* wait = entry.second;
    // Teardown: JS can no longer run, so the callback is dropped, not called.
    wait->callback.Reset();
    wait->context.reset();
    Release(wait);
  }
  data.waits.clear();
}

void InitFdWait(Napi::Env env, Napi::Object exports) {
  Export<WaitStart>(env, exports, "waitStart");
  Export<WaitRef>(env, exports, "waitRef");
  Export<WaitCancel>(env, exports, "waitCancel");
  Export<PollNow>(env, exports, "pollNow");
  Export<PendingWaits>(env, exports, "pendingWaits");
}

}  // namespace drm_gpuvm
