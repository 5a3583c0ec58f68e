//! Callbacks: their info, disabling, removing.

use std::cell::RefCell;
use std::rc::Rc;

use crate::chained;
use overlap_buf::{Buffer, CbInfo, Eol};

fn recorder(b: &mut Buffer) -> (Rc<RefCell<Vec<CbInfo>>>, overlap_buf::CallbackId) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = Rc::clone(&log);
    let id = b.add_callback(move |i| l.borrow_mut().push(*i));
    (log, id)
}

fn info(orig_len: usize, added: usize, drained: usize) -> CbInfo {
    CbInfo { orig_len, added, drained }
}

#[test]
fn every_change_of_length_reports_once() {
    let mut b = Buffer::new();
    let (log, _) = recorder(&mut b);
    b.add(b"hello\n").unwrap();
    b.add(b"").unwrap(); // nothing changed: no call
    b.prepend(b">").unwrap();
    b.drain(1).unwrap();
    b.drain(0).unwrap();
    let _ = b.readln(Eol::Lf);
    b.add_vec(b"ab".to_vec()).unwrap();
    let mut s = b.reserve(10).unwrap();
    s.extend_from_slice(b"xyz");
    b.commit(s).unwrap();
    b.pullup(5).unwrap(); // length unchanged: no call
    let blk = b.pop_block().unwrap();
    b.push_front_block(blk).unwrap();
    b.remove(&mut [0u8; 2]).unwrap();
    let want = vec![
        info(0, 6, 0),
        info(6, 1, 0),
        info(7, 0, 1),
        info(6, 0, 6),
        info(0, 2, 0),
        info(2, 3, 0),
        info(5, 0, 5), // pullup made one block of "ab" and "xyz": pop_block takes it all
        info(0, 5, 0),
        info(5, 0, 2),
    ];
    assert_eq!(*log.borrow(), want);
}

#[test]
fn moves_report_on_both_buffers() {
    let mut a = chained(&[b"abc"]);
    let mut b = chained(&[b"de"]);
    let (la, _) = recorder(&mut a);
    let (lb, _) = recorder(&mut b);
    a.add_buffer(&mut b).unwrap();
    assert_eq!(*la.borrow(), vec![info(3, 2, 0)]);
    assert_eq!(*lb.borrow(), vec![info(2, 0, 2)]);
    a.remove_buffer(&mut b, 4).unwrap();
    assert_eq!(la.borrow()[1], info(5, 0, 4));
    assert_eq!(lb.borrow()[1], info(0, 4, 0));
    a.prepend_buffer(&mut b).unwrap();
    assert_eq!(la.borrow()[2], info(1, 4, 0));
    assert_eq!(lb.borrow()[2], info(4, 0, 4));
}

#[test]
fn disabled_callbacks_do_not_run_and_removed_ones_are_gone() {
    let mut b = Buffer::new();
    let (log1, id1) = recorder(&mut b);
    let (log2, id2) = recorder(&mut b);
    b.set_callback_enabled(id1, false).unwrap();
    b.add(b"x").unwrap();
    assert!(log1.borrow().is_empty());
    assert_eq!(log2.borrow().len(), 1);
    b.set_callback_enabled(id1, true).unwrap();
    b.remove_callback(id2).unwrap();
    b.add(b"y").unwrap();
    assert_eq!(log1.borrow().len(), 1);
    assert_eq!(log2.borrow().len(), 1);
    assert_eq!(Rc::strong_count(&log2), 1, "the removed closure was dropped");
    let nf = std::io::ErrorKind::NotFound;
    assert_eq!(b.remove_callback(id2).unwrap_err().kind(), nf);
    assert_eq!(b.set_callback_enabled(id2, true).unwrap_err().kind(), nf);
    let mut other = Buffer::new();
    assert_eq!(other.remove_callback(id1).unwrap_err().kind(), nf, "ids are not shared");
    b.remove_callback(id1).unwrap();
    assert_eq!(b.remove_callback(id1).unwrap_err().kind(), nf);
}

#[test]
fn callbacks_run_in_the_order_added() {
    let mut b = Buffer::new();
    let order = Rc::new(RefCell::new(Vec::new()));
    for i in 0..3 {
        let o = Rc::clone(&order);
        b.add_callback(move |_| o.borrow_mut().push(i));
    }
    b.add(b"z").unwrap();
    assert_eq!(*order.borrow(), vec![0, 1, 2]);
    assert!(format!("{b:?}").contains("callbacks: 3"));
}
