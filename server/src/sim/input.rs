//! What a player asks for each tick.

use shared::protocol::{Input, MOVE_DIRECTIONS, buttons};

/// One player's controls: the simulation applies the newest one on every step until a new one
/// replaces it (buttons are "held" bits, not presses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlayerInput {
    /// Bits of [`shared::protocol::buttons`]; unknown bits are ignored.
    pub buttons: u8,
    /// 0 = stand still, 1..=8 = the compass directions clockwise from east (y grows downwards,
    /// so 3 is south); anything above 8 counts as 0.
    pub move_dir: u8,
    /// Facing, 65536 steps per turn, 0 = east, clockwise on screen.
    pub aim: u16,
}

impl PlayerInput {
    /// The same input with unknown button bits cleared and an out-of-range direction as "still".
    pub fn sanitised(self) -> PlayerInput {
        PlayerInput {
            buttons: self.buttons & buttons::ALL,
            move_dir: if self.move_dir > MOVE_DIRECTIONS {
                0
            } else {
                self.move_dir
            },
            aim: self.aim,
        }
    }

    pub(crate) fn fire(self) -> bool {
        self.buttons & buttons::FIRE != 0
    }

    pub(crate) fn dash(self) -> bool {
        self.buttons & buttons::DASH != 0
    }
}

impl From<&Input> for PlayerInput {
    fn from(input: &Input) -> PlayerInput {
        PlayerInput {
            buttons: input.buttons,
            move_dir: input.move_dir,
            aim: input.aim,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitising_clears_unknown_bits_and_bad_directions() {
        let raw = PlayerInput {
            buttons: 0xFF,
            move_dir: 9,
            aim: 1234,
        };
        let clean = raw.sanitised();
        assert_eq!(clean.buttons, buttons::ALL, "only defined buttons survive");
        assert_eq!(clean.move_dir, 0, "direction 9 is treated as still");
        assert_eq!(clean.aim, 1234, "aim is always valid");
        let ok = PlayerInput {
            buttons: buttons::FIRE,
            move_dir: 8,
            aim: 0,
        };
        assert_eq!(ok.sanitised(), ok, "a valid input is unchanged");
    }
}
