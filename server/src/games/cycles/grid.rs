//! Who holds each cell of the grid, so a move is judged in constant time instead of by scanning
//! every trail. It mirrors the entities (walls from the map; a cycle's cell and its trail cells
//! from the slotmap) and is kept in step with them by every change `Cycles` makes.

use super::config::CyclesMap;
use crate::game::PlayerId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell {
    Free,
    Wall,
    /// A living cycle's cell or one of its trail cells: both are a crash for whoever enters.
    Taken(PlayerId),
}

#[derive(Debug, Clone)]
pub(crate) struct Grid {
    width: i32,
    height: i32,
    /// Row-major.
    cells: Vec<Cell>,
}

impl Grid {
    pub(crate) fn new(map: &CyclesMap) -> Grid {
        let (width, height) = (i32::from(map.width), i32::from(map.height));
        let mut grid = Grid {
            width,
            height,
            cells: vec![Cell::Free; usize::from(map.width) * usize::from(map.height)],
        };
        for y in 0..height {
            for x in 0..width {
                if map.wall_at(x, y).is_some() {
                    grid.set((x, y), Cell::Wall);
                }
            }
        }
        grid
    }

    /// The cell's index, or `None` outside the grid.
    pub(crate) fn index(&self, (x, y): (i32, i32)) -> Option<usize> {
        let inside = x >= 0 && y >= 0 && x < self.width && y < self.height;
        // Both coordinates are non-negative and inside the grid here, so the casts are exact.
        inside.then(|| y as usize * self.width as usize + x as usize)
    }

    /// What holds the cell; outside the grid counts as a wall.
    pub(crate) fn get(&self, cell: (i32, i32)) -> Cell {
        self.index(cell).map_or(Cell::Wall, |i| self.cells[i])
    }

    /// Sets a cell of the grid; a cell outside it is ignored (nothing can stand there).
    pub(crate) fn set(&mut self, cell: (i32, i32), to: Cell) {
        if let Some(i) = self.index(cell) {
            self.cells[i] = to;
        }
    }

    pub(crate) fn is_free(&self, cell: (i32, i32)) -> bool {
        self.get(cell) == Cell::Free
    }
}
