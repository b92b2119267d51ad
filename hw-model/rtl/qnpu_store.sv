// Store engine: STORE commands move ROWS x ROW_BYTES from OBUF to device
// memory (qnpu_burst walks the rows). The write request channel
// (wr_req_ready_i) and the data channel (wr_ready_i) take back-pressure from
// the memory system; OBUF is read combinationally at the beat's word, so a
// beat held back is simply offered again.

module qnpu_store
  import qnpu_pkg::*;
#(
  parameter int unsigned Cols = 16,
  parameter int unsigned DmaBytes = Cols,
  parameter int unsigned ObufWords = 2048,
  localparam int unsigned ObufAw = $clog2(ObufWords)
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              cmd_valid_i,
  input  logic [511:0]      cmd_i,
  output logic              cmd_ready_o,
  output logic              busy_o,
  output logic              active_o,
  output logic              push_prev_o,
  output logic              err_o,
  output logic [7:0]        err_code_o,
  output logic [15:0]       bytes_o,
  // memory write channel
  output logic              wr_req_valid_o,
  output logic [39:0]       wr_req_addr_o,
  output logic [15:0]       wr_req_len_o,
  input  logic              wr_req_ready_i,
  output logic              wr_valid_o,
  input  logic              wr_ready_i,
  output logic [Cols*8-1:0] wr_data_o,
  // OBUF read port
  output logic [ObufAw-1:0] obuf_raddr_o,
  input  logic [Cols*8-1:0] obuf_rdata_i
);
  logic [3:0]  buf_sel;
  logic [31:0] buf_words;
  logic        last_beat, beat;
  logic [19:0] raddr;
  logic [3:0]  data_buf;
  logic [15:0] data_row_bytes;

  // OBUF is buffer 0 of a STORE; any other id is a bad field
  assign buf_words = (buf_sel == '0) ? ObufWords : '0;

  qnpu_burst #(
    .Cols     (Cols),
    .DmaBytes (DmaBytes),
    .PushLsb  (CmdPushPrevLsb)
  ) u_burst (
    .clk_i,
    .rst_ni,
    .cmd_valid_i,
    .cmd_i,
    .cmd_ready_o,
    .busy_o,
    .push_o      (push_prev_o),
    .err_o,
    .err_code_o,
    .bytes_o,
    .chk_buf_o   (buf_sel),
    .buf_words_i (buf_words),
    .buf_o       (data_buf),
    .row_bytes_o (data_row_bytes),
    .req_valid_o (wr_req_valid_o),
    .req_addr_o  (wr_req_addr_o),
    .req_len_o   (wr_req_len_o),
    .req_ready_i (wr_req_ready_i),
    .take_o      (wr_valid_o),
    .beat_i      (wr_ready_i),
    .beat_o      (beat),
    .last_beat_o (last_beat),
    .sram_addr_o (raddr)
  );

  assign active_o     = beat;
  assign wr_data_o    = obuf_rdata_i;
  assign obuf_raddr_o = raddr[ObufAw-1:0];

  // the range check keeps raddr below ObufWords; the row end and the moving
  // command's fields need no action (OBUF only, the bridge cuts the row)
  logic unused_store;
  assign unused_store = last_beat ^ (^raddr[19:ObufAw]) ^ (^data_buf) ^ (^data_row_bytes);
endmodule
