//! Page number and page size as the real Describe* calls take them.

use crate::domain::{DomainError, DomainResult};

pub const DEFAULT_PAGE_SIZE: u32 = 10;
pub const MAX_PAGE_SIZE: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub number: u32,
    pub size: u32,
}

impl PageRequest {
    /// 0 means the default (page 1, 10 per page); sizes above 50 are refused.
    pub fn new(number: i32, size: i32) -> DomainResult<Self> {
        let number = u32::try_from(number)
            .map_err(|_| DomainError::invalid("page_number", "InvalidParameter", "page_number must be 1 or more"))?
            .max(1);
        let size = match u32::try_from(size) {
            Ok(0) => DEFAULT_PAGE_SIZE,
            Ok(s) if s <= MAX_PAGE_SIZE => s,
            _ => {
                return Err(DomainError::invalid(
                    "page_size",
                    "InvalidParameter",
                    format!("page_size must be between 1 and {MAX_PAGE_SIZE} (got {size})"),
                ));
            }
        };
        Ok(Self { number, size })
    }

    /// One page of `items` (in their listing order), cloning only that page's items.
    pub fn page_of<'a, T: Clone + 'a>(self, items: impl Iterator<Item = &'a T>) -> Page<T> {
        let skip = self.skip();
        let end = skip.saturating_add(self.size as usize);
        let mut total_count = 0;
        let mut page = Vec::new();
        for item in items {
            if (skip..end).contains(&total_count) {
                page.push(item.clone());
            }
            total_count += 1;
        }
        Page { items: page, total_count, number: self.number, size: self.size }
    }

    /// How many items come before this page.
    pub fn skip(self) -> usize {
        (self.number as usize - 1).saturating_mul(self.size as usize)
    }

    /// This page out of `rest`, the items from [`skip`](Self::skip) on, of `total_count` in all.
    pub fn page_of_all<'a, T: Clone + 'a>(self, rest: impl Iterator<Item = &'a T>, total_count: usize) -> Page<T> {
        let items = rest.take(self.size as usize).cloned().collect();
        Page { items, total_count, number: self.number, size: self.size }
    }

    /// Cuts one page out of `items`, which are in their listing order.
    pub fn page<T>(self, items: Vec<T>) -> Page<T> {
        let total_count = items.len();
        let skip = self.skip();
        let items = items.into_iter().skip(skip).take(self.size as usize).collect();
        Page { items, total_count, number: self.number, size: self.size }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total_count: usize,
    pub number: u32,
    pub size: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_limits() {
        assert_eq!(PageRequest::new(0, 0), Ok(PageRequest { number: 1, size: 10 }));
        assert!(PageRequest::new(1, 51).is_err());
        assert!(PageRequest::new(-1, 10).is_err());
        assert!(PageRequest::new(1, -5).is_err());
    }

    #[test]
    fn pages_cut_in_order() {
        let p = PageRequest::new(2, 3).unwrap().page((1..=8).collect());
        assert_eq!((p.items, p.total_count), (vec![4, 5, 6], 8));
        let p = PageRequest::new(9, 3).unwrap().page((1..=8).collect::<Vec<_>>());
        assert!(p.items.is_empty());
        let all: Vec<i32> = (1..=8).collect();
        let p = PageRequest::new(2, 3).unwrap().page_of(all.iter());
        assert_eq!((p.items, p.total_count), (vec![4, 5, 6], 8));
        let request = PageRequest::new(3, 3).unwrap();
        let p = request.page_of_all(all[request.skip()..].iter(), all.len());
        assert_eq!((p.items, p.total_count), (vec![7, 8], 8));
    }
}
