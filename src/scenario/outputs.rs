//! `--outputs LIST`: which of a run's files to write, chosen on the command line over the
//! scenario's `[output]` table (as a user of tcpdump or ns-3 picks traces per run).

use std::fmt;
use std::str::FromStr;

use super::{PcapMode, Scenario};

/// The names `--outputs` takes, each a file (or group of files) a run can write.
pub const OUTPUT_NAMES: [&str; 9] = [
    "summary",
    "connections",
    "states",
    "events",
    "pcap",
    "netstat",
    "socket_counts",
    "tcp_probe",
    "figures",
];

/// A choice of outputs. `summary.txt`, `manifest.toml` and `report.html` are always written:
/// they say what the run was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputSelection {
    /// One flag per [`OUTPUT_NAMES`] entry.
    on: [bool; OUTPUT_NAMES.len()],
}

impl OutputSelection {
    fn has(&self, name: &str) -> bool {
        OUTPUT_NAMES
            .iter()
            .position(|n| *n == name)
            .is_some_and(|i| self.on[i])
    }

    /// Makes `scenario` write exactly the chosen files. A chosen pcap the scenario had off is
    /// one capture of every host (`all`); a chosen netstat or socket_counts the scenario had
    /// no times for stays empty unless `--netstat-at` gives some.
    pub fn apply(&self, scenario: &mut Scenario) {
        let out = &mut scenario.output;
        out.events = self.has("events");
        out.states = self.has("states");
        out.connections = self.has("connections");
        out.figures = self.has("figures");
        out.netstat = self.has("netstat");
        out.socket_counts = self.has("socket_counts");
        out.tcp_probe = self.has("tcp_probe");
        out.pcap = match (self.has("pcap"), out.pcap) {
            (false, _) => PcapMode::Off,
            (true, PcapMode::Off) => PcapMode::All,
            (true, mode) => mode,
        };
        let observe = &mut scenario.config.observe;
        if !out.netstat {
            observe.netstat_at.clear();
            observe.netstat_on_change = false;
        }
        if !out.socket_counts {
            observe.counts = false;
        }
        observe.tcp_probe = out.tcp_probe;
    }
}

impl FromStr for OutputSelection {
    type Err = String;

    fn from_str(list: &str) -> Result<OutputSelection, String> {
        let mut on = [false; OUTPUT_NAMES.len()];
        for word in list.split(',').map(str::trim) {
            match word {
                "all" => on = [true; OUTPUT_NAMES.len()],
                "none" => {}
                _ => match OUTPUT_NAMES.iter().position(|n| *n == word) {
                    Some(i) => on[i] = true,
                    None => {
                        return Err(format!(
                            "`{word}` is not an output; choose from all, none, {}",
                            OUTPUT_NAMES.join(", ")
                        ));
                    }
                },
            }
        }
        // The summary is written whatever the list says.
        on[0] = true;
        Ok(OutputSelection { on })
    }
}

impl fmt::Display for OutputSelection {
    /// The canonical list (`summary,events,pcap`), for the manifest and reproduce commands.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = OUTPUT_NAMES
            .iter()
            .zip(self.on)
            .filter_map(|(n, on)| on.then_some(*n))
            .collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_in_any_order_and_print_canonically() {
        let s: OutputSelection = "pcap, events".parse().unwrap();
        assert_eq!(s.to_string(), "summary,events,pcap");
        assert_eq!(
            "none".parse::<OutputSelection>().unwrap().to_string(),
            "summary"
        );
        assert_eq!(
            "all".parse::<OutputSelection>().unwrap().to_string(),
            OUTPUT_NAMES.join(",")
        );
        let err = "events,trace".parse::<OutputSelection>().unwrap_err();
        assert!(
            err.contains("`trace`") && err.contains("socket_counts"),
            "{err}"
        );
    }
}
