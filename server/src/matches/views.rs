//! Interest management, the server's side: each tick, the world each player sees.
//!
//! Players who see the same entities share one view (one filtered world, one checksum, and so
//! one encoded body per baseline): under a radius, everyone whose cells in view are the same;
//! under a game's own rules, everyone it shows the same entities.

use std::collections::{BTreeMap, HashMap};

use shared::World;

use crate::game::{AnyGame, Cell, Interest, PlayerId, Radius};

/// Who a snapshot is for: a player sees its own view; a spectator sees the whole world or
/// follows a player's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Everything,
    Player(PlayerId),
}

/// The view numbers of a frame: [`WHOLE`] is the frame's whole world.
pub(crate) type ViewNo = u32;

/// The whole world, seen by spectators and by everyone when the game limits nothing.
pub(crate) const WHOLE: ViewNo = ViewNo::MAX;

/// One distinct view of a tick.
#[derive(Debug)]
pub struct View {
    pub world: World,
    /// On ticks that carry a checksum, the view's (what the client holds is the view).
    pub checksum: Option<u64>,
}

/// The views of one tick.
#[derive(Debug)]
pub struct Views {
    /// The distinct views, in order of first use.
    views: Vec<View>,
    /// Each player's view, sorted by player.
    of: Vec<(PlayerId, ViewNo)>,
}

impl Views {
    /// A player's view this tick; `None` for a player who was not in the match.
    pub(crate) fn of(&self, player: PlayerId) -> Option<(ViewNo, &View)> {
        let at = self.of.binary_search_by_key(&player, |(p, _)| *p).ok()?;
        let no = self.of[at].1;
        Some((no, self.views.get(no as usize)?))
    }

    /// Only the views of `players` (the rest forgotten).
    pub(crate) fn keeping(&self, players: &[PlayerId]) -> Views {
        let mut kept = Views {
            views: Vec::new(),
            of: Vec::new(),
        };
        for &(player, no) in &self.of {
            if !players.contains(&player) {
                continue;
            }
            let Some(view) = self.views.get(no as usize) else {
                continue;
            };
            kept.of.push((player, view_no(kept.views.len())));
            kept.views.push(View {
                world: view.world.clone(),
                checksum: view.checksum,
            });
        }
        kept
    }

    /// How many distinct views the tick had.
    pub fn distinct(&self) -> usize {
        self.views.len()
    }

    /// How many players had a view.
    pub fn players(&self) -> usize {
        self.of.len()
    }
}

/// Each player's place in the interest grid, kept from tick to tick (the hysteresis needs the
/// cells it saw last). Public for the tick bench.
#[derive(Debug)]
pub struct ViewKeeper {
    interest: Interest,
    /// Under a radius: each player's cells in view, sorted.
    cells: BTreeMap<PlayerId, Vec<Cell>>,
    /// Scratch: each entity's cell this tick, by row.
    entity_cells: Vec<Cell>,
    /// Scratch: the rows of each cell of the tick's grid, cell `s` holding
    /// `cell_rows[cell_start[s]..cell_start[s + 1]]`.
    cell_start: Vec<usize>,
    cell_rows: Vec<u32>,
    /// Scratch: a view's rows, a bit each.
    rows: Vec<u64>,
}

impl ViewKeeper {
    /// `enabled: false` shows everyone everything whatever the game asks (the server's switch,
    /// for comparing the two).
    pub fn new(interest: Interest, enabled: bool) -> ViewKeeper {
        ViewKeeper {
            interest: if enabled {
                interest
            } else {
                Interest::Everything
            },
            cells: BTreeMap::new(),
            entity_cells: Vec::new(),
            cell_start: Vec::new(),
            cell_rows: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// Whether players see less than the whole world.
    pub(crate) fn limits(&self) -> bool {
        self.interest != Interest::Everything
    }

    /// Forgets a player who left the match.
    pub(crate) fn forget(&mut self, player: PlayerId) {
        self.cells.remove(&player);
    }

    /// The views of `players` (sorted, distinct) over this tick's `world`; `None` when everyone
    /// sees the whole world.
    pub fn views(
        &mut self,
        game: &dyn AnyGame,
        world: &World,
        players: &[PlayerId],
        with_checksum: bool,
    ) -> Option<Views> {
        let views = match self.interest {
            Interest::Everything => return None,
            Interest::Radius(radius) => self.radius_views(radius, game, world, players),
            Interest::Custom => custom_views(game, world, players),
        };
        let mut views = views;
        if with_checksum {
            for view in &mut views.views {
                view.checksum = Some(shared::checksum(&view.world));
            }
        }
        Some(views)
    }

    fn radius_views(
        &mut self,
        radius: Radius,
        game: &dyn AnyGame,
        world: &World,
        players: &[PlayerId],
    ) -> Views {
        self.entity_cells.clear();
        self.entity_cells
            .extend(world.iter().map(|(_, row)| radius.cell_of_row(row)));
        let grid = Grid::around(&self.entity_cells);
        // The entities' rows grouped by cell (a counting sort, rows in order within a cell), so
        // a view gathers the rows of its cells instead of testing every entity.
        self.cell_start.clear();
        self.cell_rows.clear();
        if let Some(grid) = &grid {
            self.cell_start.resize(grid.len() + 1, 0);
            for cell in &self.entity_cells {
                if let Some(slot) = grid.slot(*cell) {
                    self.cell_start[slot + 1] += 1;
                }
            }
            for at in 1..self.cell_start.len() {
                self.cell_start[at] += self.cell_start[at - 1];
            }
            self.cell_rows.resize(self.entity_cells.len(), 0);
            let mut next = self.cell_start.clone();
            for (row, cell) in self.entity_cells.iter().enumerate() {
                if let Some(slot) = grid.slot(*cell) {
                    self.cell_rows[next[slot]] = row as u32;
                    next[slot] += 1;
                }
            }
        }
        let mut views = Views {
            views: Vec::new(),
            of: Vec::with_capacity(players.len()),
        };
        for &player in players {
            let cells = self.cells.entry(player).or_default();
            if let Some((x, y)) = game.viewpoint(player) {
                radius.update(cells, x, y);
            }
        }
        let mut seen: BTreeMap<&[Cell], ViewNo> = BTreeMap::new();
        for &player in players {
            let cells: &[Cell] = self.cells.get(&player).map_or(&[], Vec::as_slice);
            let no = *seen.entry(cells).or_insert_with(|| {
                let view = match &grid {
                    Some(grid) => {
                        // A bit per row: the view's rows come out in row order, which is id
                        // order, with no sort.
                        self.rows.clear();
                        self.rows.resize(world.len().div_ceil(64), 0);
                        let mut count = 0;
                        for slot in cells.iter().filter_map(|c| grid.slot(*c)) {
                            let (from, to) = (self.cell_start[slot], self.cell_start[slot + 1]);
                            for &row in &self.cell_rows[from..to] {
                                self.rows[row as usize / 64] |= 1 << (row % 64);
                            }
                            count += to - from;
                        }
                        let mut view = World::with_capacity(world.schema(), count);
                        let ids = world.ids();
                        for (word_at, &word) in self.rows.iter().enumerate() {
                            let mut bits = word;
                            while bits != 0 {
                                let at = word_at * 64 + bits.trailing_zeros() as usize;
                                bits &= bits - 1;
                                view.push(ids[at], world.row(at));
                            }
                        }
                        view
                    }
                    // Too many cells for a table: a search per entity.
                    None => {
                        let mut view = World::with_capacity(world.schema(), world.len() / 2);
                        for ((id, row), cell) in world.iter().zip(&self.entity_cells) {
                            if cells.binary_search(cell).is_ok() {
                                view.push(id, row);
                            }
                        }
                        view
                    }
                };
                views.views.push(View {
                    world: view,
                    checksum: None,
                });
                view_no(views.views.len() - 1)
            });
            views.of.push((player, no));
        }
        views
    }
}

/// The cells a tick's entities span, numbered densely (row by row), when there are few enough
/// of them for a table.
#[derive(Debug, Clone, Copy)]
struct Grid {
    min: Cell,
    width: i64,
    height: i64,
}

impl Grid {
    /// Past this many cells (entities far apart on a fine grid) views test entities by search.
    const MAX_CELLS: i64 = 1 << 16;

    fn around(cells: &[Cell]) -> Option<Grid> {
        let first = cells.first()?;
        let (mut min, mut max) = (*first, *first);
        for c in cells {
            min.x = min.x.min(c.x);
            min.y = min.y.min(c.y);
            max.x = max.x.max(c.x);
            max.y = max.y.max(c.y);
        }
        let width = i64::from(max.x) - i64::from(min.x) + 1;
        let height = i64::from(max.y) - i64::from(min.y) + 1;
        (width * height <= Grid::MAX_CELLS).then_some(Grid { min, width, height })
    }

    fn len(&self) -> usize {
        (self.width * self.height) as usize
    }

    /// A cell's number, if the grid holds it.
    fn slot(&self, c: Cell) -> Option<usize> {
        let x = i64::from(c.x) - i64::from(self.min.x);
        let y = i64::from(c.y) - i64::from(self.min.y);
        ((0..self.width).contains(&x) && (0..self.height).contains(&y))
            .then(|| (y * self.width + x) as usize)
    }
}

/// Views the game decides entity by entity.
fn custom_views(game: &dyn AnyGame, world: &World, players: &[PlayerId]) -> Views {
    let mut views = Views {
        views: Vec::new(),
        of: Vec::with_capacity(players.len()),
    };
    let mut seen: HashMap<Vec<u32>, ViewNo> = HashMap::new();
    let mut rows = Vec::new();
    for &player in players {
        rows.clear();
        rows.extend(
            world
                .iter()
                .enumerate()
                .filter(|(_, (id, row))| game.sees(player, *id, row))
                .map(|(at, _)| at as u32),
        );
        let no = match seen.get(&rows) {
            Some(no) => *no,
            None => {
                let mut view = World::with_capacity(world.schema(), rows.len());
                for &at in &rows {
                    let at = at as usize;
                    view.push(world.ids()[at], world.row(at));
                }
                views.views.push(View {
                    world: view,
                    checksum: None,
                });
                let no = view_no(views.views.len() - 1);
                seen.insert(rows.clone(), no);
                no
            }
        };
        views.of.push((player, no));
    }
    views
}

/// A view's number (there are never more views than players).
fn view_no(at: usize) -> ViewNo {
    ViewNo::try_from(at).unwrap_or(WHOLE)
}

#[cfg(test)]
mod tests;
