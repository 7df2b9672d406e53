//! Pagination tokens that clients hand back as input: opaque to them, and each decoder takes
//! only what its encoder wrote. (IAM's `Marker` is the store's, EC2's `NextToken` an item's ID:
//! those stay with their owners.)

pub mod list_objects;
pub mod lookup_events;
