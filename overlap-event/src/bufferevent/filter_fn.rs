//! What a filter function is and says (libevent's `bufferevent_filter_cb` and
//! `bufferevent_filter_result`).

use overlap_buf::Buffer;

use super::what::Flush;

/// What a filter function says (libevent's `bufferevent_filter_result`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FilterResult {
    /// It produced what it could (`BEV_OK`).
    Ok,
    /// It needs more input before it can produce anything (`BEV_NEED_MORE`).
    NeedMore,
    /// The data is bad: the filter's event callback gets ERROR (`BEV_ERROR`).
    Error,
}

/// A filter function: moves what it can from `src` to `dst`, producing at most `limit`
/// bytes when there is one, as `mode` says.
pub type FilterFn = Box<dyn FnMut(&mut Buffer, &mut Buffer, Option<usize>, Flush) -> FilterResult>;
