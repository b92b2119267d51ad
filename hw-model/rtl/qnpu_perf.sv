// Per-job performance counters, cleared at job start, counting while the job
// runs (until it is done or failed). Counter order is the order of the
// completion-entry fields from CYCLES on (see docs/hw-spec.md).

module qnpu_perf #(
  parameter int unsigned NumCnt = 12
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        job_start_i,
  input  logic        run_i,
  input  logic [15:0] inc_i [NumCnt],
  output logic [63:0] cnt_o [NumCnt]
);
  logic [63:0] cnt_q [NumCnt];
  logic [63:0] cnt_d [NumCnt];

  always_comb begin
    for (int unsigned i = 0; i < NumCnt; i++) begin
      cnt_d[i] = cnt_q[i] + 64'(inc_i[i]);
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_q <= '{default: '0};
    end else if (job_start_i) begin
      cnt_q <= '{default: '0};
    end else if (run_i) begin
      cnt_q <= cnt_d;
    end
  end

  assign cnt_o = cnt_q;
endmodule
