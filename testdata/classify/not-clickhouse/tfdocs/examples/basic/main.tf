resource "aws_instance" "web" {
  ami           = <YOUR_AMI_ID>
  instance_type = "t3.micro"
}
