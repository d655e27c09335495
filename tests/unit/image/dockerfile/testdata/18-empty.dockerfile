# only comments

   
