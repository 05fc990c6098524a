use sluice_engine::EngineError;

/// An engine error as a JavaScript error whose `code` is the engine's stable code.
pub fn to_napi(err: EngineError) -> napi::Error<String> {
    napi::Error::new(err.code().to_string(), err.to_string())
}

/// Runs `work` on a libuv worker thread, turning a panic into an error instead of aborting
/// the process (the async tasks' counterpart of `#[napi(catch_unwind)]`).
pub fn catch_panic<T>(work: impl FnOnce() -> T) -> napi::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        napi::Error::new(
            napi::Status::GenericFailure,
            format!("SLUICE_NATIVE_PANIC: {detail}"),
        )
    })
}
