// qnpu compute core: command processor, load / compute / store engines, the
// four SRAMs and the per-job counters. The host interface (register page,
// rings, doorbell, interrupt, command fetch and the MMU) is the C++ bridge in
// hw-model/capi, which drives the ports below every cycle.

module qnpu_top
  import qnpu_pkg::*;
#(
  parameter int unsigned Rows = 16,
  parameter int unsigned Cols = 16,
  parameter int unsigned AbufBytes = 65536,
  parameter int unsigned WbufBytes = 32768,
  parameter int unsigned PbufBytes = 4096,
  parameter int unsigned ObufBytes = 32768,
  parameter int unsigned QDepth = 16,
  // bytes the DMA port moves per cycle and direction (divides Cols)
  parameter int unsigned DmaBytes = Cols
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  // job control
  input  logic              job_start_i,
  input  logic [31:0]       job_ncmds_i,
  output logic              job_done_o,
  output logic [7:0]        job_status_o,
  output logic [31:0]       job_err_cmd_o,
  // index of the LOAD / STORE command in progress (for fault reports)
  output logic [31:0]       ld_cmd_idx_o,
  output logic [31:0]       st_cmd_idx_o,
  // command stream, in order
  input  logic              cmd_valid_i,
  input  logic [511:0]      cmd_i,
  output logic              cmd_ready_o,
  // memory read channel (device VAs; the bridge translates): requests with
  // back-pressure, data in request order with back-pressure
  output logic              rd_req_valid_o,
  output logic [39:0]       rd_req_addr_o,
  output logic [15:0]       rd_req_len_o,
  input  logic              rd_req_ready_i,
  input  logic              rd_valid_i,
  output logic              rd_ready_o,
  input  logic [Cols*8-1:0] rd_data_i,
  // memory write channel (posted writes: a burst is done when its last beat
  // is taken)
  output logic              wr_req_valid_o,
  output logic [39:0]       wr_req_addr_o,
  output logic [15:0]       wr_req_len_o,
  input  logic              wr_req_ready_i,
  output logic              wr_valid_o,
  input  logic              wr_ready_i,
  output logic [Cols*8-1:0] wr_data_o,
  // counters
  output logic [63:0]       cnt_o [12]
);
  localparam int unsigned AbufWords = AbufBytes / Cols;
  localparam int unsigned WbufWords = WbufBytes / Cols;
  localparam int unsigned PbufWords = PbufBytes / Cols;
  localparam int unsigned ObufWords = ObufBytes / Cols;
  localparam int unsigned AbufAw = $clog2(AbufWords);
  localparam int unsigned WbufAw = $clog2(WbufWords);
  localparam int unsigned PbufAw = $clog2(PbufWords);
  localparam int unsigned ObufAw = $clog2(ObufWords);

  logic         eng_valid [3];
  logic [511:0] eng_cmd [3];
  logic         eng_ready [3];
  logic         eng_busy [3];
  logic         eng_err [3];
  logic [7:0]   eng_err_code [3];
  logic         ld_push_next, cp_push_prev, cp_push_next, st_push_prev;
  logic         tok_stall [3];
  logic         disp_stall, job_active;

  qnpu_cmd_proc #(
    .QDepth (QDepth)
  ) u_cmd_proc (
    .clk_i,
    .rst_ni,
    .job_start_i,
    .job_ncmds_i,
    .cmd_valid_i,
    .cmd_i,
    .cmd_ready_o,
    .eng_valid_o    (eng_valid),
    .eng_cmd_o      (eng_cmd),
    .eng_ready_i    (eng_ready),
    .eng_busy_i     (eng_busy),
    .eng_err_i      (eng_err),
    .eng_err_code_i (eng_err_code),
    .ld_push_next_i (ld_push_next),
    .cp_push_prev_i (cp_push_prev),
    .cp_push_next_i (cp_push_next),
    .st_push_prev_i (st_push_prev),
    .tok_stall_o    (tok_stall),
    .disp_stall_o   (disp_stall),
    .job_active_o   (job_active),
    .ld_idx_o       (ld_cmd_idx_o),
    .st_idx_o       (st_cmd_idx_o),
    .job_done_o,
    .job_status_o,
    .job_err_cmd_o
  );

  // ---- SRAMs ----
  logic              abuf_we, wbuf_we, pbuf_we;
  logic              obuf_we [2];
  logic [19:0]       ld_waddr;
  logic [Cols*8-1:0] ld_wdata;
  logic [Cols*8-1:0] obuf_wdata [2];
  // array rows times the column groups of the packed vector mode
  logic [AbufAw-1:0] abuf_raddr [Rows*2];
  logic              abuf_rd_groups;     // the column groups' ports read
  logic [Cols*8-1:0] abuf_rdata [Rows*2];
  logic [WbufAw-1:0] wbuf_raddr [1];
  logic [Cols*8-1:0] wbuf_rdata [1];
  logic [PbufAw-1:0] pbuf_raddr [ParamSetWords];
  logic [Cols*8-1:0] pbuf_rdata [ParamSetWords];
  logic [ObufAw-1:0] obuf_waddr [2];
  // ABUF: port 0 LOAD, ports 1-2 the PPU (DRAIN_ABUF)
  logic              abuf_we_a [3], wbuf_we_a [1], pbuf_we_a [1];
  logic [AbufAw-1:0] abuf_waddr_a [3];
  logic [Cols*8-1:0] abuf_wdata_a [3];
  logic              cp_abuf_we [2];
  logic [AbufAw-1:0] cp_abuf_waddr [2];
  logic [Cols*8-1:0] cp_abuf_wdata [2];
  logic [WbufAw-1:0] wbuf_waddr_a [1];
  logic [PbufAw-1:0] pbuf_waddr_a [1];
  logic [Cols*8-1:0] ld_wdata_a [1];
  assign abuf_we_a[0]    = abuf_we;
  assign wbuf_we_a[0]    = wbuf_we;
  assign pbuf_we_a[0]    = pbuf_we;
  assign abuf_waddr_a[0] = ld_waddr[AbufAw-1:0];
  assign wbuf_waddr_a[0] = ld_waddr[WbufAw-1:0];
  assign pbuf_waddr_a[0] = ld_waddr[PbufAw-1:0];
  assign ld_wdata_a[0]   = ld_wdata;
  assign abuf_wdata_a[0] = ld_wdata;
  for (genvar l = 0; l < 2; l++) begin : g_abuf_ppu
    assign abuf_we_a[1 + l]    = cp_abuf_we[l];
    assign abuf_waddr_a[1 + l] = cp_abuf_waddr[l];
    assign abuf_wdata_a[1 + l] = cp_abuf_wdata[l];
  end
  logic [ObufAw-1:0] obuf_raddr [1];
  logic [Cols*8-1:0] obuf_rdata [1];

  qnpu_sram #(.Words (AbufWords), .Width (Cols*8), .NumRd (Rows*2), .NumRdOn (Rows),
              .NumWr (3)) u_abuf (
    .clk_i,
    .rst_ni,
    .rd_more_i (abuf_rd_groups),
    .we_i    (abuf_we_a),
    .waddr_i (abuf_waddr_a),
    .wdata_i (abuf_wdata_a),
    .raddr_i (abuf_raddr),
    .rdata_o (abuf_rdata)
  );
  qnpu_sram #(.Words (WbufWords), .Width (Cols*8), .NumRd (1)) u_wbuf (
    .clk_i,
    .rst_ni,
    .rd_more_i (1'b1),
    .we_i    (wbuf_we_a),
    .waddr_i (wbuf_waddr_a),
    .wdata_i (ld_wdata_a),
    .raddr_i (wbuf_raddr),
    .rdata_o (wbuf_rdata)
  );
  qnpu_sram #(.Words (PbufWords), .Width (Cols*8), .NumRd (ParamSetWords)) u_pbuf (
    .clk_i,
    .rst_ni,
    .rd_more_i (1'b1),
    .we_i    (pbuf_we_a),
    .waddr_i (pbuf_waddr_a),
    .wdata_i (ld_wdata_a),
    .raddr_i (pbuf_raddr),
    .rdata_o (pbuf_rdata)
  );
  qnpu_sram #(.Words (ObufWords), .Width (Cols*8), .NumRd (1), .NumWr (2)) u_obuf (
    .clk_i,
    .rst_ni,
    .rd_more_i (1'b1),
    .we_i    (obuf_we),
    .waddr_i (obuf_waddr),
    .wdata_i (obuf_wdata),
    .raddr_i (obuf_raddr),
    .rdata_o (obuf_rdata)
  );

  // ---- engines ----
  logic        ld_active, cp_active, st_active, stall_ppu;
  logic [15:0] ld_bytes, st_bytes, macs;

  qnpu_load #(
    .Cols      (Cols),
    .DmaBytes  (DmaBytes),
    .AbufWords (AbufWords),
    .WbufWords (WbufWords),
    .PbufWords (PbufWords)
  ) u_load (
    .clk_i,
    .rst_ni,
    .cmd_valid_i    (eng_valid[0]),
    .cmd_i          (eng_cmd[0]),
    .cmd_ready_o    (eng_ready[0]),
    .busy_o         (eng_busy[0]),
    .active_o       (ld_active),
    .push_next_o    (ld_push_next),
    .err_o          (eng_err[0]),
    .err_code_o     (eng_err_code[0]),
    .bytes_o        (ld_bytes),
    .rd_req_valid_o,
    .rd_req_addr_o,
    .rd_req_len_o,
    .rd_req_ready_i,
    .rd_valid_i,
    .rd_ready_o,
    .rd_data_i,
    .abuf_we_o      (abuf_we),
    .wbuf_we_o      (wbuf_we),
    .pbuf_we_o      (pbuf_we),
    .waddr_o        (ld_waddr),
    .wdata_o        (ld_wdata)
  );

  qnpu_compute #(
    .Rows      (Rows),
    .Cols      (Cols),
    .AbufBytes (AbufBytes),
    .WbufWords (WbufWords),
    .PbufWords (PbufWords),
    .ObufWords (ObufWords)
  ) u_compute (
    .clk_i,
    .rst_ni,
    .cmd_valid_i  (eng_valid[1]),
    .cmd_i        (eng_cmd[1]),
    .cmd_ready_o  (eng_ready[1]),
    .busy_o       (eng_busy[1]),
    .active_o     (cp_active),
    .stall_ppu_o  (stall_ppu),
    .push_prev_o  (cp_push_prev),
    .push_next_o  (cp_push_next),
    .err_o        (eng_err[1]),
    .err_code_o   (eng_err_code[1]),
    .macs_o       (macs),
    .abuf_raddr_o (abuf_raddr),
    .abuf_groups_o (abuf_rd_groups),
    .abuf_rdata_i (abuf_rdata),
    .wbuf_raddr_o (wbuf_raddr),
    .wbuf_rdata_i (wbuf_rdata),
    .pbuf_raddr_o (pbuf_raddr),
    .pbuf_rdata_i (pbuf_rdata),
    .obuf_we_o    (obuf_we),
    .obuf_waddr_o (obuf_waddr),
    .obuf_wdata_o (obuf_wdata),
    .abuf_we_o    (cp_abuf_we),
    .abuf_waddr_o (cp_abuf_waddr),
    .abuf_wdata_o (cp_abuf_wdata)
  );

  qnpu_store #(
    .Cols      (Cols),
    .DmaBytes  (DmaBytes),
    .ObufWords (ObufWords)
  ) u_store (
    .clk_i,
    .rst_ni,
    .cmd_valid_i    (eng_valid[2]),
    .cmd_i          (eng_cmd[2]),
    .cmd_ready_o    (eng_ready[2]),
    .busy_o         (eng_busy[2]),
    .active_o       (st_active),
    .push_prev_o    (st_push_prev),
    .err_o          (eng_err[2]),
    .err_code_o     (eng_err_code[2]),
    .bytes_o        (st_bytes),
    .wr_req_valid_o,
    .wr_req_addr_o,
    .wr_req_len_o,
    .wr_req_ready_i,
    .wr_valid_o,
    .wr_ready_i,
    .wr_data_o,
    .obuf_raddr_o   (obuf_raddr[0]),
    .obuf_rdata_i   (obuf_rdata[0])
  );

  // ---- counters (order = completion entry CYCLES .. LOAD_CYCLES, minus
  // CMD_BYTES which the bridge counts) ----
  logic [15:0] inc [12];
  always_comb begin
    inc[0]  = 16'd1;
    inc[1]  = {15'd0, eng_busy[0] | eng_busy[1] | eng_busy[2]};
    inc[2]  = macs;
    inc[3]  = ld_bytes;
    inc[4]  = st_bytes;
    inc[5]  = 16'(tok_stall[0]);
    inc[6]  = 16'(tok_stall[1]);
    inc[7]  = 16'(tok_stall[2]);
    inc[8]  = 16'(stall_ppu);
    inc[9]  = 16'(disp_stall);
    inc[10] = 16'(cp_active);
    inc[11] = 16'(ld_active);
  end

  qnpu_perf #(
    .NumCnt (12)
  ) u_perf (
    .clk_i,
    .rst_ni,
    .job_start_i,
    .run_i  (job_active),
    .inc_i  (inc),
    .cnt_o
  );

  // the bridge sees store activity on wr_valid_o; upper load-address bits
  // are range-checked by the load engine
  logic unused_top;
  assign unused_top = st_active ^ (^ld_waddr);
endmodule
