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

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      for (int unsigned i = 0; i < NumCnt; i++) begin
        cnt_q[i] <= '0;
      end
    end else if (job_start_i) begin
      for (int unsigned i = 0; i < NumCnt; i++) begin
        cnt_q[i] <= '0;
      end
    end else if (run_i) begin
      for (int unsigned i = 0; i < NumCnt; i++) begin
        cnt_q[i] <= cnt_q[i] + 64'(inc_i[i]);
      end
    end
  end

  assign cnt_o = cnt_q;
endmodule
