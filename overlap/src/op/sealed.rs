//! The traits every op implements: [`Op`] (public, sealed), the port-facing side it seals
//! (its handle), and the boilerplate of the driver-facing side (`OpCode`, in `contract/`).

/// An operation a [`CompletionPort`](crate::CompletionPort) can run. Sealed: the ops of this
/// module are the ones there are.
pub trait Op: private::Sealed {}

pub(crate) mod private {
    use crate::contract::desc::OpCode;
    use crate::port::handle::Handle;

    /// The port-facing side of an op, besides what it asks of the kernel.
    pub trait Sealed: OpCode {
        /// The handle the op works on (`None` for timeouts and posts).
        fn handle(&self) -> Option<&Handle>;
    }
}

/// Implements the driver-facing trait's boilerplate for an op type.
macro_rules! op_any {
    () => {
        fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + std::marker::Send> {
            self
        }
        fn op_type(&self) -> std::any::TypeId {
            std::any::TypeId::of::<Self>()
        }
    };
}
pub(super) use op_any;
