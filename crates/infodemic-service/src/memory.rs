//! Process-wide memory settings of the long-running commands.

/// The store's page cache of a command that runs for days (`watch`), MiB. sled holds two to
/// three times its cache in memory: with 128 MiB a `watch` grew from 149 to 315 MiB over its
/// first 90,000 items, with 32 it stayed between 149 and 203 MiB over 160,000 (the `watch_soak`
/// bench). The queries the API serves while `watch` runs stay under 10 ms p50 at a million
/// items with this cache (the `query_scale` bench).
pub const SERVICE_CACHE_MIB: u64 = 32;

/// How many malloc arenas glibc may create. Its default is eight per core, and each thread
/// that allocates while another holds an arena lock gets its own: the store's and the
/// crawl's worker threads then spread short-lived buffers over many arenas, and freed
/// memory stays resident in them. Over 90,000 items of `watch` with a 16 MiB cache (the
/// `watch_soak` bench), two arenas kept the process at 126-145 MiB where the default grew from
/// 225 to 336 MiB, with the same number of polls.
pub const MALLOC_ARENAS: i32 = 2;

/// Bounds glibc's malloc arenas to [`MALLOC_ARENAS`], unless the user chose otherwise through
/// `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES`. Call it first in `main`, before any thread starts.
/// Returns whether the bound was set; elsewhere than Linux with glibc it does nothing.
pub fn bound_allocator_arenas() -> bool {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() || std::env::var_os("GLIBC_TUNABLES").is_some() {
        return false;
    }
    set_arena_max(MALLOC_ARENAS)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn set_arena_max(arenas: i32) -> bool {
    // SAFETY: mallopt only changes a malloc tunable; glibc takes its own lock for it, and any
    // value is accepted or refused with a return of 0.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_arena_max(_arenas: i32) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_accepts_the_bound() {
        // Refused values return 0: a wrong constant or an unsupported option would show here.
        assert!(set_arena_max(MALLOC_ARENAS));
    }
}
