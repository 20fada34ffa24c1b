//! Personal information protection (PIPL): masking for screens, exports and public lists.

pub mod mask;
