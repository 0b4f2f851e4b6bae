//! BFD control packets (RFC 5880 §4.1): a checked view (`BfdPacket`) and
//! the parsed meaning (`BfdRepr`) with `parse` (the packet-local receive
//! checks of §6.8.6, one `Drop` reason each, never panics) and `emit`.
//! Owns the 24 bytes of one control packet (the UDP payload). Never: the
//! TTL (RFC 5881), the discriminator lookup or the authentication decision,
//! which need the session (`session`). No authentication section is ever
//! written; one received is never read (the session drops such packets).

use super::{Diag, Drop, State};
use crate::wire::{get_u8, get_u32, set_u8, set_u32};

/// Length of a control packet without authentication.
pub const HEADER_LEN: usize = 24;
/// Shortest valid Length with the A bit set (header + 2-byte auth header).
pub const AUTH_MIN_LEN: usize = 26;
/// The only protocol version.
pub const VERSION: u8 = 1;

mod field {
    /// Version (3 bits), Diag (5 bits).
    pub const VERS_DIAG: usize = 0;
    /// State (2 bits), P F C A D M.
    pub const STATE_FLAGS: usize = 1;
    pub const DETECT_MULT: usize = 2;
    pub const LENGTH: usize = 3;
    pub const MY_DISCR: usize = 4;
    pub const YOUR_DISCR: usize = 8;
    pub const DESIRED_MIN_TX: usize = 12;
    pub const REQUIRED_MIN_RX: usize = 16;
    pub const REQUIRED_MIN_ECHO_RX: usize = 20;
}

/// The flag bits of the second byte.
pub mod flags {
    pub const POLL: u8 = 0x20;
    pub const FINAL: u8 = 0x10;
    /// Control Plane Independent.
    pub const CPI: u8 = 0x08;
    pub const AUTH: u8 = 0x04;
    pub const DEMAND: u8 = 0x02;
    pub const MULTIPOINT: u8 = 0x01;
}

/// A view of a BFD control packet. `new_checked` guarantees the 24-byte
/// mandatory section; `BfdRepr::parse` does the remaining checks.
#[derive(Debug, Clone)]
pub struct BfdPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> BfdPacket<T> {
    pub fn new_unchecked(buffer: T) -> BfdPacket<T> {
        BfdPacket { buffer }
    }

    /// Wrap `buffer`; `Drop::Truncated` when it is shorter than 24 bytes.
    pub fn new_checked(buffer: T) -> Result<BfdPacket<T>, Drop> {
        let p = BfdPacket::new_unchecked(buffer);
        if p.buffer.as_ref().len() < HEADER_LEN {
            return Err(Drop::Truncated);
        }
        Ok(p)
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn version(&self) -> u8 {
        get_u8(self.b(), field::VERS_DIAG) >> 5
    }
    pub fn diag(&self) -> Diag {
        Diag::from_bits(get_u8(self.b(), field::VERS_DIAG))
    }
    pub fn state(&self) -> State {
        State::from_bits(get_u8(self.b(), field::STATE_FLAGS) >> 6)
    }
    /// The six flag bits (see [`flags`]).
    pub fn flags(&self) -> u8 {
        get_u8(self.b(), field::STATE_FLAGS) & 0x3f
    }
    fn flag(&self, f: u8) -> bool {
        self.flags() & f != 0
    }
    pub fn poll(&self) -> bool {
        self.flag(flags::POLL)
    }
    pub fn final_(&self) -> bool {
        self.flag(flags::FINAL)
    }
    pub fn cpi(&self) -> bool {
        self.flag(flags::CPI)
    }
    pub fn auth(&self) -> bool {
        self.flag(flags::AUTH)
    }
    pub fn demand(&self) -> bool {
        self.flag(flags::DEMAND)
    }
    pub fn multipoint(&self) -> bool {
        self.flag(flags::MULTIPOINT)
    }
    pub fn detect_mult(&self) -> u8 {
        get_u8(self.b(), field::DETECT_MULT)
    }
    /// The Length field (bytes of the whole control packet).
    pub fn length(&self) -> u8 {
        get_u8(self.b(), field::LENGTH)
    }
    pub fn my_discriminator(&self) -> u32 {
        get_u32(self.b(), field::MY_DISCR)
    }
    pub fn your_discriminator(&self) -> u32 {
        get_u32(self.b(), field::YOUR_DISCR)
    }
    /// Microseconds.
    pub fn desired_min_tx(&self) -> u32 {
        get_u32(self.b(), field::DESIRED_MIN_TX)
    }
    /// Microseconds.
    pub fn required_min_rx(&self) -> u32 {
        get_u32(self.b(), field::REQUIRED_MIN_RX)
    }
    /// Microseconds.
    pub fn required_min_echo_rx(&self) -> u32 {
        get_u32(self.b(), field::REQUIRED_MIN_ECHO_RX)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> BfdPacket<T> {
    fn bm(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
    pub fn set_version_diag(&mut self, version: u8, diag: Diag) {
        set_u8(self.bm(), field::VERS_DIAG, (version << 5) | diag.bits());
    }
    /// State and the six flag bits together.
    pub fn set_state_flags(&mut self, state: State, flag_bits: u8) {
        set_u8(
            self.bm(),
            field::STATE_FLAGS,
            ((state as u8) << 6) | (flag_bits & 0x3f),
        );
    }
    pub fn set_detect_mult(&mut self, v: u8) {
        set_u8(self.bm(), field::DETECT_MULT, v)
    }
    pub fn set_length(&mut self, v: u8) {
        set_u8(self.bm(), field::LENGTH, v)
    }
    pub fn set_my_discriminator(&mut self, v: u32) {
        set_u32(self.bm(), field::MY_DISCR, v)
    }
    pub fn set_your_discriminator(&mut self, v: u32) {
        set_u32(self.bm(), field::YOUR_DISCR, v)
    }
    pub fn set_desired_min_tx(&mut self, v: u32) {
        set_u32(self.bm(), field::DESIRED_MIN_TX, v)
    }
    pub fn set_required_min_rx(&mut self, v: u32) {
        set_u32(self.bm(), field::REQUIRED_MIN_RX, v)
    }
    pub fn set_required_min_echo_rx(&mut self, v: u32) {
        set_u32(self.bm(), field::REQUIRED_MIN_ECHO_RX, v)
    }
}

/// A parsed control packet. Intervals are in microseconds, as on the wire.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BfdRepr {
    pub diag: Diag,
    pub state: State,
    pub poll: bool,
    pub final_: bool,
    pub cpi: bool,
    /// The A bit (no authentication section is parsed or emitted).
    pub auth: bool,
    pub demand: bool,
    pub detect_mult: u8,
    pub my_discriminator: u32,
    pub your_discriminator: u32,
    pub desired_min_tx: u32,
    pub required_min_rx: u32,
    pub required_min_echo_rx: u32,
}

impl BfdRepr {
    /// The packet-local checks of RFC 5880 §6.8.6, in the RFC's order:
    /// version, Length (minimum, then within the buffer), Detect Mult,
    /// Multipoint, My Discriminator, Your Discriminator zero outside
    /// Down/AdminDown; then P and F together.
    pub fn parse<T: AsRef<[u8]>>(p: &BfdPacket<T>) -> Result<BfdRepr, Drop> {
        if p.b().len() < HEADER_LEN {
            return Err(Drop::Truncated);
        }
        if p.version() != VERSION {
            return Err(Drop::Version);
        }
        let min = if p.auth() { AUTH_MIN_LEN } else { HEADER_LEN };
        let len = usize::from(p.length());
        if len < min {
            return Err(Drop::Length);
        }
        if len > p.b().len() {
            return Err(Drop::Truncated);
        }
        if p.detect_mult() == 0 {
            return Err(Drop::DetectMult);
        }
        if p.multipoint() {
            return Err(Drop::Multipoint);
        }
        if p.my_discriminator() == 0 {
            return Err(Drop::MyDiscriminator);
        }
        let state = p.state();
        if p.your_discriminator() == 0 && !matches!(state, State::Down | State::AdminDown) {
            return Err(Drop::YourDiscriminatorZero);
        }
        if p.poll() && p.final_() {
            return Err(Drop::PollAndFinal);
        }
        Ok(BfdRepr {
            diag: p.diag(),
            state,
            poll: p.poll(),
            final_: p.final_(),
            cpi: p.cpi(),
            auth: p.auth(),
            demand: p.demand(),
            detect_mult: p.detect_mult(),
            my_discriminator: p.my_discriminator(),
            your_discriminator: p.your_discriminator(),
            desired_min_tx: p.desired_min_tx(),
            required_min_rx: p.required_min_rx(),
            required_min_echo_rx: p.required_min_echo_rx(),
        })
    }

    /// Bytes `emit` writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Write the 24-byte packet (version 1, Length 24, M clear). The
    /// buffer must hold `buffer_len()` bytes; a shorter one is left partly
    /// written (no panic).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut BfdPacket<T>) {
        let mut f = 0;
        for (on, bit) in [
            (self.poll, flags::POLL),
            (self.final_, flags::FINAL),
            (self.cpi, flags::CPI),
            (self.auth, flags::AUTH),
            (self.demand, flags::DEMAND),
        ] {
            if on {
                f |= bit;
            }
        }
        p.set_version_diag(VERSION, self.diag);
        p.set_state_flags(self.state, f);
        p.set_detect_mult(self.detect_mult);
        p.set_length(HEADER_LEN as u8);
        p.set_my_discriminator(self.my_discriminator);
        p.set_your_discriminator(self.your_discriminator);
        p.set_desired_min_tx(self.desired_min_tx);
        p.set_required_min_rx(self.required_min_rx);
        p.set_required_min_echo_rx(self.required_min_echo_rx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Up packet written byte by byte, independent of `emit`:
    /// diag 0, Up, P, mult 3, len 24, discr 0x11223344 / 0x55667788,
    /// 10 ms / 20 ms / 0.
    const UP_POLL: [u8; 24] = [
        0x20, 0xe0, 3, 24, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0x00, 0x27, 0x10,
        0x00, 0x00, 0x4e, 0x20, 0, 0, 0, 0,
    ];

    fn parse(b: &[u8]) -> Result<BfdRepr, Drop> {
        BfdRepr::parse(&BfdPacket::new_checked(b)?)
    }

    #[test]
    fn parses_bytes_written_by_hand() {
        let r = parse(&UP_POLL).unwrap();
        assert_eq!(r.state, State::Up);
        assert_eq!(r.diag, Diag::None);
        assert!(r.poll && !r.final_ && !r.cpi && !r.auth && !r.demand);
        assert_eq!(r.detect_mult, 3);
        assert_eq!(r.my_discriminator, 0x1122_3344);
        assert_eq!(r.your_discriminator, 0x5566_7788);
        assert_eq!(r.desired_min_tx, 10_000);
        assert_eq!(r.required_min_rx, 20_000);
        assert_eq!(r.required_min_echo_rx, 0);
    }

    #[test]
    fn emit_parse_round_trip() {
        let mut out = [0u8; 24];
        let r = parse(&UP_POLL).unwrap();
        r.emit(&mut BfdPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, UP_POLL);
        for state in [State::AdminDown, State::Down, State::Init, State::Up] {
            for diag in [
                Diag::None,
                Diag::DetectionTimeExpired,
                Diag::NeighborDown,
                Diag::AdminDown,
                Diag::Reserved(31),
            ] {
                for (poll, final_) in [(false, false), (true, false), (false, true)] {
                    let r = BfdRepr {
                        diag,
                        state,
                        poll,
                        final_,
                        cpi: true,
                        auth: false,
                        demand: state == State::Up,
                        detect_mult: 255,
                        my_discriminator: u32::MAX,
                        your_discriminator: 7,
                        desired_min_tx: 1_000_000,
                        required_min_rx: u32::MAX,
                        required_min_echo_rx: 1,
                    };
                    let mut b = [0xffu8; 24];
                    r.emit(&mut BfdPacket::new_unchecked(&mut b[..]));
                    assert_eq!(parse(&b), Ok(r));
                }
            }
        }
    }

    #[test]
    fn trailing_bytes_after_length_are_ignored() {
        let mut b = UP_POLL.to_vec();
        b.extend_from_slice(&[0xaa; 8]);
        assert_eq!(parse(&b).unwrap().my_discriminator, 0x1122_3344);
    }

    /// Each malformed case, one field changed from a good packet.
    #[test]
    fn each_malformed_case_has_its_reason() {
        type Edit = fn(&mut Vec<u8>);
        let cases: &[(&str, Edit, Drop)] = &[
            ("empty", |b| b.clear(), Drop::Truncated),
            ("23 bytes", |b| b.truncate(23), Drop::Truncated),
            ("version 0", |b| b[0] &= 0x1f, Drop::Version),
            ("version 2", |b| b[0] = 0x40, Drop::Version),
            ("version 7", |b| b[0] |= 0xe0, Drop::Version),
            ("length 0", |b| b[3] = 0, Drop::Length),
            ("length 23", |b| b[3] = 23, Drop::Length),
            // With A set the minimum is 26 (RFC 5880 §6.8.6).
            ("auth with length 24", |b| b[1] |= 0x04, Drop::Length),
            ("length past the buffer", |b| b[3] = 25, Drop::Truncated),
            ("length 255", |b| b[3] = 255, Drop::Truncated),
            ("detect mult 0", |b| b[2] = 0, Drop::DetectMult),
            ("multipoint", |b| b[1] |= 0x01, Drop::Multipoint),
            (
                "my discriminator 0",
                |b| b[4..8].fill(0),
                Drop::MyDiscriminator,
            ),
            (
                "your discriminator 0 while Up",
                |b| b[8..12].fill(0),
                Drop::YourDiscriminatorZero,
            ),
            (
                "your discriminator 0 while Init",
                |b| {
                    b[8..12].fill(0);
                    b[1] = (b[1] & 0x3f) | 0x80;
                },
                Drop::YourDiscriminatorZero,
            ),
            ("poll and final", |b| b[1] |= 0x10, Drop::PollAndFinal),
        ];
        for (name, edit, want) in cases {
            let mut b = UP_POLL.to_vec();
            edit(&mut b);
            assert_eq!(parse(&b), Err(*want), "{name}");
        }
    }

    #[test]
    fn zero_your_discriminator_is_fine_in_down_and_admin_down() {
        for state_bits in [0x00u8, 0x40] {
            let mut b = UP_POLL;
            b[8..12].fill(0);
            b[1] = state_bits;
            let r = parse(&b).unwrap();
            assert_eq!(r.your_discriminator, 0);
        }
    }

    #[test]
    fn auth_bit_with_room_for_the_auth_header_parses() {
        // The codec accepts it; the session drops it (no auth configured).
        let mut b = UP_POLL.to_vec();
        b[1] |= 0x04;
        b[3] = 26;
        b.extend_from_slice(&[1, 2]);
        assert!(parse(&b).unwrap().auth);
    }

    #[test]
    fn no_buffer_makes_it_panic() {
        // Every length 0..=40, every value of bytes 0, 1 and 3 over a good packet.
        for len in 0..=40 {
            let mut b = UP_POLL.to_vec();
            b.resize(len, 0x5a);
            let _ = parse(&b);
            let p = BfdPacket::new_unchecked(&b[..]);
            let _ = (p.my_discriminator(), p.required_min_echo_rx(), p.state());
        }
        for at in [0usize, 1, 3] {
            for v in 0..=255u8 {
                let mut b = UP_POLL;
                b[at] = v;
                let _ = parse(&b);
            }
        }
        // Emitting into a short buffer writes the whole fields that fit.
        let mut short = [0u8; 6];
        parse(&UP_POLL)
            .unwrap()
            .emit(&mut BfdPacket::new_unchecked(&mut short[..]));
        assert_eq!(short, [0x20, 0xe0, 3, 24, 0, 0]);
    }

    #[test]
    fn state_and_diag_codes() {
        for v in 0..32u8 {
            assert_eq!(Diag::from_bits(v).bits(), v);
        }
        assert_eq!(Diag::from_bits(3), Diag::NeighborDown);
        for v in 0..4u8 {
            assert_eq!(State::from_bits(v) as u8, v);
        }
    }
}
